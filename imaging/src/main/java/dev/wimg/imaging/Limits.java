package dev.wimg.imaging;

/**
 * Bounds on what a transform may ask for and cost. One instance is given to
 * {@link TransformSpec#parse} (request limits) and to the engine (source and resource limits).
 *
 * @param maxOutputSide        largest {@code w} or {@code h} a request may ask for, in pixels
 * @param maxSourcePixels      largest source (width × height, in pixels) an engine will decode;
 *                             checked from the header before any pixel is decoded
 * @param threadsPerTransform  worker threads libvips may use inside one transform
 *                             ({@code vips_concurrency_set}); the caller's own pool gives the
 *                             parallelism across requests, so 1 is right for a busy server
 * @param nativeCacheBytes     bytes libvips' operation cache may hold
 *                             ({@code vips_cache_set_max_mem})
 * @param nativeCacheOperations operations libvips' operation cache may hold
 *                             ({@code vips_cache_set_max}); 0 turns it off
 */
public record Limits(int maxOutputSide, long maxSourcePixels, int threadsPerTransform,
                     long nativeCacheBytes, int nativeCacheOperations) {

  /** Default {@link #maxOutputSide()}, in pixels. */
  public static final int DEFAULT_MAX_OUTPUT_SIDE = 8192;
  /** Default {@link #maxSourcePixels()}: 50 megapixels. */
  public static final long DEFAULT_MAX_SOURCE_PIXELS = 50_000_000L;
  /** Default {@link #threadsPerTransform()}. */
  public static final int DEFAULT_THREADS_PER_TRANSFORM = 1;
  /**
   * Default {@link #nativeCacheOperations()}: off. WIMG caches finished outputs itself, and every
   * request hands libvips a new buffer, so libvips' cache (keyed by that buffer) could never hit
   * across requests and would only hold memory.
   */
  public static final int DEFAULT_NATIVE_CACHE_OPERATIONS = 0;
  /** Default {@link #nativeCacheBytes()}: 0 bytes, see {@link #DEFAULT_NATIVE_CACHE_OPERATIONS}. */
  public static final long DEFAULT_NATIVE_CACHE_BYTES = 0;
  /** Largest output side any configuration may allow, in pixels (libvips' own bound is 10^7). */
  public static final int MAX_OUTPUT_SIDE_CEILING = 65_535;

  public Limits {
    if (maxOutputSide < 1 || maxOutputSide > MAX_OUTPUT_SIDE_CEILING) {
      throw new IllegalArgumentException(
          "maxOutputSide must be 1.." + MAX_OUTPUT_SIDE_CEILING + ", got " + maxOutputSide);
    }
    if (maxSourcePixels < 1) {
      throw new IllegalArgumentException("maxSourcePixels must be >= 1, got " + maxSourcePixels);
    }
    if (threadsPerTransform < 1 || threadsPerTransform > 1024) {
      throw new IllegalArgumentException(
          "threadsPerTransform must be 1..1024, got " + threadsPerTransform);
    }
    if (nativeCacheBytes < 0) {
      throw new IllegalArgumentException("nativeCacheBytes must be >= 0, got " + nativeCacheBytes);
    }
    if (nativeCacheOperations < 0) {
      throw new IllegalArgumentException(
          "nativeCacheOperations must be >= 0, got " + nativeCacheOperations);
    }
  }

  /** The defaults documented on each constant. */
  public static Limits defaults() {
    return new Limits(DEFAULT_MAX_OUTPUT_SIDE, DEFAULT_MAX_SOURCE_PIXELS,
        DEFAULT_THREADS_PER_TRANSFORM, DEFAULT_NATIVE_CACHE_BYTES, DEFAULT_NATIVE_CACHE_OPERATIONS);
  }

  /** A copy with another {@link #maxOutputSide()}. */
  public Limits withMaxOutputSide(int pixels) {
    return new Limits(pixels, maxSourcePixels, threadsPerTransform, nativeCacheBytes,
        nativeCacheOperations);
  }

  /** A copy with another {@link #maxSourcePixels()}. */
  public Limits withMaxSourcePixels(long pixels) {
    return new Limits(maxOutputSide, pixels, threadsPerTransform, nativeCacheBytes,
        nativeCacheOperations);
  }

  /** A copy with another {@link #threadsPerTransform()}. */
  public Limits withThreadsPerTransform(int threads) {
    return new Limits(maxOutputSide, maxSourcePixels, threads, nativeCacheBytes,
        nativeCacheOperations);
  }
}
