package dev.wimg.server.internal.transform;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.wimg.imaging.ImageEngine;
import dev.wimg.imaging.Limits;
import dev.wimg.imaging.Presets;
import dev.wimg.imaging.TransformResult;
import dev.wimg.imaging.TransformSpec;
import dev.wimg.protocol.Fid;
import dev.wimg.server.ImagingConfig;
import dev.wimg.server.internal.derived.DerivedIndex;
import dev.wimg.server.internal.derived.DerivedStoreLoader;
import dev.wimg.server.internal.derived.TransformKey;
import dev.wimg.storage.FsyncPolicy;
import dev.wimg.storage.NewFile;
import dev.wimg.storage.Store;
import dev.wimg.storage.StoreConfig;
import dev.wimg.storage.StoredFile;
import dev.wimg.storage.WriteResult;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Computes derived pictures and keeps them: once in flight (single-flight), in a bounded memory
 * cache (the hot set), and as needles of a second store, {@code <data>/derived}, linked to their
 * originals by a {@link DerivedIndex} so that a restart keeps them.
 *
 * <p>Transforms run on a pool of {@code threads} workers with a queue of
 * {@link ImagingConfig#queueLength()}; a transform that finds the queue full fails with
 * {@link Busy} at once, so memory is bounded: a queued transform holds only its original's mapped
 * view, a running one its output. After answering, the worker saves the output as a needle and
 * links it; when the derived pictures pass {@link ImagingConfig#derivedCapBytes()} the least
 * recently used are deleted.
 *
 * <p>Deleting an original deletes its derived pictures: before its tombstone (a crash in between
 * leaves an original without derivatives, never derivatives of a deleted original) and again
 * after (a transform that finished meanwhile). A worker that links a derivative checks afterwards
 * that the original still exists, which closes the remaining race.
 *
 * <p>Order of writes between the derived store and its index: a needle is written before its ADD,
 * and a link's REMOVE is logged before its needle is deleted. A crash between two steps can so
 * only leave a needle without a link (never served), which the next start finds and deletes; see
 * {@link DerivedStoreLoader}.
 */
public final class TransformService implements Closeable {

  private static final Logger log = LoggerFactory.getLogger(TransformService.class);

  /** Folder of the derived store and its index, inside the data folder. */
  public static final String DERIVED_DIR = "derived";
  /** Memory a cache entry costs besides its bytes (key, record, Caffeine node), bytes; an estimate. */
  private static final int CACHE_ENTRY_OVERHEAD = 256;
  /** How long close() waits for running transforms, seconds. */
  private static final long SHUTDOWN_SECONDS = 5;

  /**
   * An encoded derived picture held in memory. The bytes are kept in a direct buffer: a heap
   * buffer would be copied into a direct one by the transport on every response that sends it.
   */
  public record Rendition(ByteBuffer data, String mime, String etag) {

    public Rendition {
      if (!data.isDirect()) {
        data = ByteBuffer.allocateDirect(data.remaining()).put(data.duplicate()).flip();
      }
      data = data.asReadOnlyBuffer();
    }
  }

  /** The transform queue is full: answer 503 with Retry-After. */
  public static final class Busy extends RuntimeException {

    Busy(String message) {
      super(message, null, false, false);
    }
  }

  /** The body of {@code imaging} in {@code /status}. */
  public record Status(String engine, List<String> outputFormats, int workers, int queueLength, int queued,
                       long transforms, boolean presetsOnly, boolean signedUrls, CacheStatus cache,
                       DerivedStatus derived) {}

  /**
   * @param entries  results held in memory
   * @param bytes    their weight, bytes
   * @param capBytes the cache's bound, bytes
   * @param hits     requests answered from memory
   * @param urls     request URLs remembered with the key they resolved to, at most
   *                 {@value UrlKeyCache#MAX_ENTRIES}
   * @param urlHits  requests whose URL was remembered and whose result was in memory: answered
   *                 without parsing the query
   * @param parses   transform queries parsed and checked against the grammar (URL not
   *                 remembered, or its result no longer in memory)
   */
  public record CacheStatus(long entries, long bytes, long capBytes, long hits, long urls, long urlHits,
                            long parses) {}

  /**
   * @param count    derived pictures on disk
   * @param bytes    their size, bytes
   * @param capBytes the bound, bytes; past it the least recently used are deleted
   * @param hits     requests answered from a derived picture on disk
   * @param misses   requests that computed a transform (or joined one in flight)
   */
  public record DerivedStatus(int count, long bytes, long capBytes, long hits, long misses) {}

  private final ImagingConfig config;
  private final ImageEngine engine;
  private final Presets presets;
  private final Limits limits;
  private final UrlSigner signer;
  private final Store originals;
  private final Store derived;
  private final DerivedIndex index;
  private final ThreadPoolExecutor pool;
  private final int threads;
  private final ConcurrentHashMap<TransformKey, CompletableFuture<Rendition>> inFlight = new ConcurrentHashMap<>();
  private final Cache<TransformKey, Rendition> cache;
  private final LongAdder transforms = new LongAdder();
  private final UrlKeyCache urlKeys;
  private final LongAdder cacheHits = new LongAdder();
  private final LongAdder urlHits = new LongAdder();
  private final LongAdder parses = new LongAdder();
  private final LongAdder derivedHits = new LongAdder();
  private final LongAdder misses = new LongAdder();

  private TransformService(ImagingConfig config, ImageEngine engine, Presets presets, Store originals,
                           Store derived, DerivedIndex index, int threads) {
    this.config = config;
    this.engine = engine;
    this.presets = presets;
    this.limits = config.limits();
    this.signer = new UrlSigner(config.signingKeys());
    this.originals = originals;
    this.derived = derived;
    this.index = index;
    this.threads = threads;
    this.urlKeys = new UrlKeyCache(engine.outputFormats());
    this.pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(config.queueLength()), new DefaultThreadFactory("wimg-transform", true));
    this.pool.allowCoreThreadTimeOut(true);
    // Eviction runs on the thread that inserts (the worker), so the cache never stays over its
    // bound waiting for a background task.
    this.cache = Caffeine.newBuilder()
        .executor(Runnable::run)
        .maximumWeight(config.cacheBytes())
        .weigher((TransformKey k, Rendition r) -> CACHE_ENTRY_OVERHEAD + r.data().remaining())
        .build();
  }

  /**
   * Checks the presets, opens the derived store ({@code <originals' data>/derived}, same group and
   * settings) and its index, reconciled by {@link DerivedStoreLoader}.
   *
   * @param threads transform workers, normally one per core
   * @throws IllegalArgumentException naming a bad preset
   */
  public static TransformService open(ImagingConfig config, Store originals, ImageEngine engine, int threads)
      throws IOException {
    Presets presets = Presets.of(config.presets(), config.presetsOnly(), config.limits());
    StoreConfig base = originals.config();
    Path dir = base.dataDir().resolve(DERIVED_DIR);
    DerivedStoreLoader.Loaded loaded = DerivedStoreLoader.open(base.withDataDir(dir),
        base.fsyncPolicy() == FsyncPolicy.ALWAYS);
    try {
      return new TransformService(config, engine, presets, originals, loaded.store(), loaded.index(), threads);
    } catch (RuntimeException e) {
      try {
        loaded.index().close();
      } finally {
        loaded.store().close();
      }
      throw e;
    }
  }

  public ImageEngine engine() {
    return engine;
  }

  public Presets presets() {
    return presets;
  }

  public Limits limits() {
    return limits;
  }

  public UrlSigner signer() {
    return signer;
  }

  /** The store of derived pictures. */
  public Store derivedStore() {
    return derived;
  }

  /** The result of {@code key} if it is in memory, else null. */
  public Rendition cached(TransformKey key) {
    Rendition hit = cache.getIfPresent(key);
    if (hit != null) {
      cacheHits.increment();
    }
    return hit;
  }

  /**
   * The result for a request URL seen before, if it is in memory, with the key it resolved to;
   * else null. See {@link UrlKeyCache} for why a remembered URL needs no new checks.
   *
   * @param path   the request path exactly as received
   * @param query  the raw query exactly as received
   * @param accept the request's {@code Accept}, or null
   */
  Remembered rememberedResult(String path, String query, String accept) {
    TransformKey key = urlKeys.lookup(path, query, accept);
    if (key == null) {
      return null;
    }
    Rendition hit = cached(key);
    if (hit == null) {
      return null;
    }
    urlHits.increment();
    return new Remembered(key, hit);
  }

  /** A result found by its request URL. */
  record Remembered(TransformKey key, Rendition rendition) {}

  /** Remembers that a URL which passed every check resolved to {@code key}. */
  void rememberUrl(String path, String query, TransformKey key) {
    urlKeys.remember(path, query, key);
  }

  /** Parses a query's transform parameters against the grammar, limits and presets. */
  TransformSpec parse(TransformQuery query) {
    parses.increment();
    return TransformSpec.parse(query.parameters(), presets, limits);
  }

  /** The derived picture of {@code key} on disk, marked most recently used, or null. */
  DerivedIndex.Link derivedLink(TransformKey key) {
    return index.lookup(key);
  }

  /** Counts a request answered from a derived picture on disk. */
  public void countDerivedHit() {
    derivedHits.increment();
  }

  /** Forgets a link whose needle was found gone (deleted under it): the next request recomputes. */
  void forget(DerivedIndex.Link link) {
    if (index.unlink(link)) {
      log.warn("derived picture {} of {} is gone from the derived store; recomputing", link.derived(),
          link.key().original());
      try {
        index.logRemovals(List.of(link));
      } catch (IOException e) {
        log.error("logging the removal of derived picture {} failed", link.derived(), e);
      }
    }
  }

  /**
   * The result of {@code spec} on {@code original}: from memory, else from a computation already
   * in flight for the same key, else a new one on the worker pool.
   *
   * @return completes with the result, or exceptionally with {@link Busy} (queue full), an
   *     {@link dev.wimg.imaging.ImageRequestException} (a request the engine refuses) or another
   *     exception (a bug, a native failure)
   */
  public CompletableFuture<Rendition> render(TransformKey key, TransformSpec spec, StoredFile original,
                                             String accept) {
    Rendition hit = cached(key);
    if (hit != null) {
      return CompletableFuture.completedFuture(hit);
    }
    misses.increment();
    CompletableFuture<Rendition> mine = new CompletableFuture<>();
    CompletableFuture<Rendition> running = inFlight.putIfAbsent(key, mine);
    if (running != null) {
      return running;
    }
    try {
      pool.execute(() -> compute(key, spec, original, accept, mine));
    } catch (RejectedExecutionException e) {
      inFlight.remove(key, mine);
      mine.completeExceptionally(new Busy("too many transforms waiting (queue of " + config.queueLength()
          + "); retry later"));
    }
    return mine;
  }

  private void compute(TransformKey key, TransformSpec spec, StoredFile original, String accept,
                       CompletableFuture<Rendition> mine) {
    Rendition rendition;
    try {
      transforms.increment();
      TransformResult out = engine.transform(original.data(), spec, accept);
      rendition = new Rendition(out.data(), out.mime(), key.etag(original.checksum()));
    } catch (RuntimeException | Error e) {
      inFlight.remove(key, mine);
      mine.completeExceptionally(e);
      return;
    }
    if (config.cacheBytes() > 0) {
      cache.put(key, rendition);
    }
    inFlight.remove(key, mine);
    mine.complete(rendition);
    persist(key, original, rendition);
  }

  /** Saves a result as a needle of the derived store and links it. Runs on the worker. */
  private void persist(TransformKey key, StoredFile original, Rendition rendition) {
    long size = rendition.data().remaining();
    if (size > config.derivedCapBytes()) {
      return;
    }
    WriteResult written = null;
    boolean linked = false;
    try {
      written = derived.write(new NewFile(null, rendition.mime(), System.currentTimeMillis(),
          List.of(rendition.data().duplicate()))).get();
      List<DerivedIndex.Link> dropped = index.add(new DerivedIndex.Link(key, written.fid(), original.checksum(),
          written.size(), rendition.mime()), config.derivedCapBytes());
      linked = true;
      drop(dropped);
      if (originals.read(key.original()) == null) {
        // Deleted while this transform ran: its cascade may have run before the link existed.
        forgetOriginal(key.original());
        drop(index.removeOriginal(key.original()));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | ExecutionException | RuntimeException e) {
      log.warn("saving the derived picture {} of {} failed; it stays computable", key.canonical(),
          key.original(), e);
      if (written != null && !linked) {
        // no ADD accounts for the needle: delete it now rather than leave it to the next start
        derived.delete(written.fid());
      }
    }
  }

  /**
   * Logs the removal of unlinked derived pictures, then deletes their needles. In this order a
   * crash in between leaves needles no link accounts for, which the next start deletes
   * ({@link DerivedStoreLoader}), never a link without its needle.
   */
  private void drop(List<DerivedIndex.Link> links) throws IOException {
    if (links.isEmpty()) {
      return;
    }
    index.logRemovals(links);
    List<CompletableFuture<Boolean>> deletions = new ArrayList<>(links.size());
    for (DerivedIndex.Link link : links) {
      deletions.add(derived.delete(link.derived()));
    }
    try {
      CompletableFuture.allOf(deletions.toArray(CompletableFuture[]::new)).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while deleting derived pictures", e);
    } catch (ExecutionException e) {
      throw new IOException("deleting derived pictures failed", e.getCause());
    }
  }

  private void forgetOriginal(Fid original) {
    cache.asMap().keySet().removeIf(k -> k.original().equals(original));
    urlKeys.forget(original);
  }

  /**
   * Deletes an original and its derived pictures (see the class Javadoc for the order).
   *
   * @param blocking where the derived deletions (disk writes) run
   * @return as {@link Store#delete}
   */
  public CompletableFuture<Boolean> deleteOriginal(Fid original, Executor blocking) {
    return dropDerivatives(original, blocking)
        .thenCompose(none -> originals.delete(original))
        .thenCompose(deleted -> dropDerivatives(original, blocking).thenApply(none -> deleted));
  }

  private CompletableFuture<Void> dropDerivatives(Fid original, Executor blocking) {
    forgetOriginal(original);
    List<DerivedIndex.Link> links = index.removeOriginal(original);
    if (links.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    try {
      return CompletableFuture.runAsync(() -> {
        try {
          drop(links);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }, blocking);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Figures for {@code /status}. */
  public Status status() {
    long cacheBytes = cache.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    return new Status(engine.name(), engine.outputFormats().stream().sorted().toList(), threads,
        config.queueLength(), pool.getQueue().size(), transforms.sum(), presets.presetsOnly(), signer.enabled(),
        new CacheStatus(cache.estimatedSize(), cacheBytes, config.cacheBytes(), cacheHits.sum(),
            urlKeys.size(), urlHits.sum(), parses.sum()),
        new DerivedStatus(index.count(), index.bytes(), config.derivedCapBytes(), derivedHits.sum(), misses.sum()));
  }

  /** Transforms computed since start: the engine's calls. */
  public long transforms() {
    return transforms.sum();
  }

  /** Stops the workers (waiting briefly for running transforms), then closes the index and the derived store. */
  @Override
  public void close() throws IOException {
    pool.shutdown();
    try {
      if (!pool.awaitTermination(SHUTDOWN_SECONDS, TimeUnit.SECONDS)) {
        pool.shutdownNow();
      }
    } catch (InterruptedException e) {
      pool.shutdownNow();
      Thread.currentThread().interrupt();
    }
    try {
      index.close();
    } finally {
      derived.close();
    }
  }
}
