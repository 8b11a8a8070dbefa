package dev.wimg.server.internal.transform;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.wimg.protocol.Fid;
import dev.wimg.server.internal.derived.TransformKey;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * The hot set of derived pictures in memory, bounded by their bytes, and the request URLs that
 * resolved to them ({@link UrlKeyCache}), with the counts {@code /status} reports.
 *
 * <p>Implementation notes: eviction runs on the thread that inserts (the transform worker), so the
 * cache never stays over its bound waiting for a background task. An entry's weight is its bytes
 * plus {@link #ENTRY_OVERHEAD}.
 */
final class RenditionCache {

  /** Memory a cache entry costs besides its bytes (key, record, Caffeine node), bytes; an estimate. */
  private static final int ENTRY_OVERHEAD = 256;

  private final long capBytes;
  private final Cache<TransformKey, TransformService.Rendition> results;
  private final UrlKeyCache urlKeys;
  private final LongAdder hits = new LongAdder();
  private final LongAdder urlHits = new LongAdder();

  /**
   * @param capBytes bytes the results may weigh together; 0 keeps none
   * @param writable the engine's output formats, as for {@link TransformKey#of}
   */
  RenditionCache(long capBytes, Set<String> writable) {
    this.capBytes = capBytes;
    this.urlKeys = new UrlKeyCache(writable);
    this.results = Caffeine.newBuilder()
        .executor(Runnable::run)
        .maximumWeight(capBytes)
        .weigher((TransformKey k, TransformService.Rendition r) -> ENTRY_OVERHEAD + r.data().remaining())
        .build();
  }

  /** The result of {@code key} if it is in memory, else null; a hit is counted. */
  TransformService.Rendition get(TransformKey key) {
    TransformService.Rendition hit = results.getIfPresent(key);
    if (hit != null) {
      hits.increment();
    }
    return hit;
  }

  /**
   * The result for a request URL seen before, if it is in memory, with the key it resolved to;
   * else null. See {@link UrlKeyCache} for why a remembered URL needs no new checks.
   */
  TransformService.Remembered remembered(String path, String query, String accept) {
    TransformKey key = urlKeys.lookup(path, query, accept);
    if (key == null) {
      return null;
    }
    TransformService.Rendition hit = get(key);
    if (hit == null) {
      return null;
    }
    urlHits.increment();
    return new TransformService.Remembered(key, hit);
  }

  /** Remembers that a URL which passed every check resolved to {@code key}. */
  void rememberUrl(String path, String query, TransformKey key) {
    urlKeys.remember(path, query, key);
  }

  /** Keeps a result, unless the cache is sized to keep none. */
  void put(TransformKey key, TransformService.Rendition rendition) {
    if (capBytes > 0) {
      results.put(key, rendition);
    }
  }

  /** Forgets the results and URLs of an original (deleted). */
  void forgetOriginal(Fid original) {
    results.asMap().keySet().removeIf(k -> k.original().equals(original));
    urlKeys.forget(original);
  }

  /**
   * Figures for {@code /status}.
   *
   * @param parses transform queries parsed, counted by the caller
   */
  TransformService.CacheStatus status(long parses) {
    long bytes = results.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    return new TransformService.CacheStatus(results.estimatedSize(), bytes, capBytes, hits.sum(), urlKeys.size(),
        urlHits.sum(), parses);
  }
}
