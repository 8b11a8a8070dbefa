package dev.wimg.server.internal.transform;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.wimg.protocol.Fid;
import dev.wimg.server.internal.derived.TransformKey;
import java.util.Set;

/**
 * Remembers which {@link TransformKey} a request URL resolved to, so that a repeated URL skips
 * parsing the query, checking it against the grammar and presets, and canonicalizing it.
 *
 * <p>An entry is keyed by the request path and the raw query exactly as received (the {@code sig}
 * parameter included) and holds the key without its {@code Accept} variant plus whether the
 * transform is {@code format=auto}; for {@code auto} the variant (WebP/AVIF accepted) is worked
 * out from the request's {@code Accept} at each lookup, through a small memo of recent
 * {@code Accept} values, because browsers send few distinct ones.
 *
 * <p>Implementation notes: the handler remembers a URL only after it passed every check (query
 * syntax, signature, grammar, presets-only). Those checks are pure functions of the path and the
 * query, and the signing keys and presets are fixed for the life of the server, so a URL that
 * matches an entry character for character would pass them again: reusing the entry is as safe
 * as re-checking. A tampered URL (another {@code sig}, another parameter) is a different entry
 * and goes through every check. A hit only names a key: the result still comes from the result
 * cache, and when it is not there the request takes the full path.
 */
final class UrlKeyCache {

  /** Most URLs remembered, entries; each costs its path and query plus ~200 bytes. */
  static final int MAX_ENTRIES = 10_000;
  /** Longest path plus query remembered, chars; longer URLs always take the full path. */
  static final int MAX_URL_CHARS = 1024;
  /** Most distinct {@code Accept} values memoized, entries. */
  private static final int MAX_ACCEPT_ENTRIES = 256;
  /** Longest {@code Accept} value memoized, chars; longer ones are parsed each time. */
  private static final int MAX_ACCEPT_CHARS = 512;

  private record Url(String path, String query) {}

  /** What a URL resolved to: the key without its variant, and whether it varies with Accept. */
  private record Resolved(Fid original, String canonical, boolean auto) {}

  private final Set<String> writable;
  // Eviction runs on the calling thread, as for the result cache: no background task keeps an
  // entry beyond the bound.
  private final Cache<Url, Resolved> urls = Caffeine.newBuilder()
      .executor(Runnable::run)
      .maximumSize(MAX_ENTRIES)
      .build();
  private final Cache<String, String> variants = Caffeine.newBuilder()
      .executor(Runnable::run)
      .maximumSize(MAX_ACCEPT_ENTRIES)
      .build();

  /** @param writable the engine's output formats, as for {@link TransformKey#of} */
  UrlKeyCache(Set<String> writable) {
    this.writable = Set.copyOf(writable);
  }

  /**
   * The key a previous request with this path and query resolved to, its variant worked out from
   * {@code accept}; null when the URL is not remembered.
   */
  TransformKey lookup(String path, String query, String accept) {
    if (path.length() + query.length() > MAX_URL_CHARS) {
      return null;
    }
    Resolved resolved = urls.getIfPresent(new Url(path, query));
    if (resolved == null) {
      return null;
    }
    return new TransformKey(resolved.original(), resolved.canonical(), resolved.auto() ? variant(accept) : "");
  }

  /**
   * Remembers that this path and query resolved to {@code key}. Call only once the URL passed
   * every check (see the class notes).
   */
  void remember(String path, String query, TransformKey key) {
    if (path.length() + query.length() > MAX_URL_CHARS) {
      return;
    }
    urls.put(new Url(path, query), new Resolved(key.original(), key.canonical(), key.variesWithAccept()));
  }

  /** Forgets the URLs of an original (deleted). */
  void forget(Fid original) {
    urls.asMap().values().removeIf(r -> r.original().equals(original));
  }

  /** URLs remembered. */
  long size() {
    return urls.estimatedSize();
  }

  private String variant(String accept) {
    if (accept == null || accept.length() > MAX_ACCEPT_CHARS) {
      return TransformKey.variant(accept, writable);
    }
    return variants.get(accept, a -> TransformKey.variant(a, writable));
  }
}
