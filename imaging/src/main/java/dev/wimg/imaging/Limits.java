package dev.wimg.imaging;

/**
 * Bounds on what a transform may ask for and cost. One instance is given to
 * {@link TransformSpec#parse} (request limits) and to the engine (source and resource limits).
 *
 * <p>Every bound on work is checked before libvips runs: from the URL alone where it can be (a
 * 400), else from the source's header and the geometry the transform would make (a 422), so no
 * picture makes libvips build an image it would reject with an assertion (which aborts the
 * process) or one whose cost is out of proportion to the output.
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
 * @param maxSourceBytes       largest decoded source, in bytes: width × height × bands × bytes
 *                             per band, from the header
 * @param maxSourceBands       most bands (channels, alpha included) a source may have
 * @param maxOutputPixels      largest picture a transform makes, in pixels: the output, and the
 *                             scaled picture {@code fill} crops the output from
 * @param maxEnlargement       how many times a transform may enlarge a side of the source (or of
 *                             its crop): {@code fill} and {@code stretch} enlarge, {@code fit} and
 *                             {@code pad} never do
 * @param maxBlurWork          largest {@code blur} cost, output pixels × sigma: a gaussian blur
 *                             costs in proportion to both
 * @param maxTransformMillis   time one transform may take, from its start, in milliseconds; past
 *                             it libvips stops computing pixels (its kill flag, set from its
 *                             {@code eval} progress signal) and the transform fails with
 *                             {@link ImageRequestException#OVER_BUDGET}
 * @param maxTransformMemory   bytes of working memory the transforms in flight may hold
 *                             together, each estimated from its source's header before it decodes
 *                             (see {@code docs/IMAGING.md}, "Memory"); a transform waits until its
 *                             share is free, and one whose estimate alone passes this is refused
 */
public record Limits(int maxOutputSide, long maxSourcePixels, int threadsPerTransform,
                     long nativeCacheBytes, int nativeCacheOperations, long maxSourceBytes,
                     int maxSourceBands, long maxOutputPixels, int maxEnlargement,
                     long maxBlurWork, long maxTransformMillis, long maxTransformMemory) {

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
  /**
   * Default {@link #maxSourceBytes()}: 200 MB, a source at the pixel limit with 4 bands of 8 bits
   * (a 16-bit RGBA source may have 25 megapixels). A 7000 × 7000 TIFF of 64 bands decodes to
   * 3.1 GB and cost 13 s and a 2.1 GB peak before this limit.
   */
  public static final long DEFAULT_MAX_SOURCE_BYTES = 200_000_000L;
  /** Default {@link #maxSourceBands()}: 5, CMYK with alpha, the most a picture needs. */
  public static final int DEFAULT_MAX_SOURCE_BANDS = 5;
  /**
   * Default {@link #maxOutputPixels()}: 16 megapixels (4096 × 4096). An AVIF encode of 67
   * megapixels (8192 × 8192) took 10 s and 2 GB; one of 16 megapixels about a quarter of that.
   */
  public static final long DEFAULT_MAX_OUTPUT_PIXELS = 4096L * 4096;
  /** Default {@link #maxEnlargement()}: a side may grow 16 times (a 16 px icon to 256 px). */
  public static final int DEFAULT_MAX_ENLARGEMENT = 16;
  /**
   * Default {@link #maxBlurWork()}: 400 million pixel-sigmas, about a second of one core with
   * libvips 8.14 (4096 × 4096 at sigma 10 took 0.5 s of CPU, at sigma 100 44 s), so
   * {@code blur=100} is allowed up to 4 megapixels of output.
   */
  public static final long DEFAULT_MAX_BLUR_WORK = 400_000_000L;
  /**
   * Default {@link #maxTransformMillis()}: 5 seconds, some 50 times a 24 MP photo to a 300 px
   * thumbnail on one loaded core.
   */
  public static final long DEFAULT_MAX_TRANSFORM_MILLIS = 5_000;
  /**
   * Default {@link #maxTransformMemory()}: 384 MiB. With the idle server's 150-200 MiB and the
   * 64 MiB output cache it keeps the process under the 768 MiB memory goal. A 33 KB GIF whose one
   * frame is 65,535 × 762 holds 300 MB while it is decoded; eight requests of it on two workers
   * took the process from 198 MB to 1.0 GB before this gate.
   */
  public static final long DEFAULT_MAX_TRANSFORM_MEMORY = 384L << 20;
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
    if (maxSourceBytes < 1) {
      throw new IllegalArgumentException("maxSourceBytes must be >= 1, got " + maxSourceBytes);
    }
    if (maxSourceBands < 1) {
      throw new IllegalArgumentException("maxSourceBands must be >= 1, got " + maxSourceBands);
    }
    if (maxOutputPixels < 1) {
      throw new IllegalArgumentException("maxOutputPixels must be >= 1, got " + maxOutputPixels);
    }
    if (maxEnlargement < 1) {
      throw new IllegalArgumentException("maxEnlargement must be >= 1, got " + maxEnlargement);
    }
    if (maxBlurWork < 1) {
      throw new IllegalArgumentException("maxBlurWork must be >= 1, got " + maxBlurWork);
    }
    if (maxTransformMillis < 1) {
      throw new IllegalArgumentException(
          "maxTransformMillis must be >= 1, got " + maxTransformMillis);
    }
    if (maxTransformMemory < 1 << 20 || maxTransformMemory > (1L << 40)) {
      throw new IllegalArgumentException(
          "maxTransformMemory must be 1 MiB..1 TiB, got " + maxTransformMemory);
    }
  }

  /** The defaults documented on each constant. */
  public static Limits defaults() {
    return new Limits(DEFAULT_MAX_OUTPUT_SIDE, DEFAULT_MAX_SOURCE_PIXELS,
        DEFAULT_THREADS_PER_TRANSFORM, DEFAULT_NATIVE_CACHE_BYTES, DEFAULT_NATIVE_CACHE_OPERATIONS,
        DEFAULT_MAX_SOURCE_BYTES, DEFAULT_MAX_SOURCE_BANDS, DEFAULT_MAX_OUTPUT_PIXELS,
        DEFAULT_MAX_ENLARGEMENT, DEFAULT_MAX_BLUR_WORK, DEFAULT_MAX_TRANSFORM_MILLIS,
        DEFAULT_MAX_TRANSFORM_MEMORY);
  }

  /** A copy with another {@link #maxOutputSide()}. */
  public Limits withMaxOutputSide(int pixels) {
    return new Limits(pixels, maxSourcePixels, threadsPerTransform, nativeCacheBytes,
        nativeCacheOperations, maxSourceBytes, maxSourceBands, maxOutputPixels, maxEnlargement,
        maxBlurWork, maxTransformMillis, maxTransformMemory);
  }

  /** A copy with another {@link #maxSourcePixels()}. */
  public Limits withMaxSourcePixels(long pixels) {
    return new Limits(maxOutputSide, pixels, threadsPerTransform, nativeCacheBytes,
        nativeCacheOperations, maxSourceBytes, maxSourceBands, maxOutputPixels, maxEnlargement,
        maxBlurWork, maxTransformMillis, maxTransformMemory);
  }

  /** A copy with another {@link #threadsPerTransform()}. */
  public Limits withThreadsPerTransform(int threads) {
    return new Limits(maxOutputSide, maxSourcePixels, threads, nativeCacheBytes,
        nativeCacheOperations, maxSourceBytes, maxSourceBands, maxOutputPixels, maxEnlargement,
        maxBlurWork, maxTransformMillis, maxTransformMemory);
  }

  /** A copy with another {@link #maxOutputPixels()}. */
  public Limits withMaxOutputPixels(long pixels) {
    return new Limits(maxOutputSide, maxSourcePixels, threadsPerTransform, nativeCacheBytes,
        nativeCacheOperations, maxSourceBytes, maxSourceBands, pixels, maxEnlargement,
        maxBlurWork, maxTransformMillis, maxTransformMemory);
  }

  /** A copy with another {@link #maxTransformMillis()}. */
  public Limits withMaxTransformMillis(long millis) {
    return new Limits(maxOutputSide, maxSourcePixels, threadsPerTransform, nativeCacheBytes,
        nativeCacheOperations, maxSourceBytes, maxSourceBands, maxOutputPixels, maxEnlargement,
        maxBlurWork, millis, maxTransformMemory);
  }

  /** A copy with another {@link #maxTransformMemory()}. */
  public Limits withMaxTransformMemory(long bytes) {
    return new Limits(maxOutputSide, maxSourcePixels, threadsPerTransform, nativeCacheBytes,
        nativeCacheOperations, maxSourceBytes, maxSourceBands, maxOutputPixels, maxEnlargement,
        maxBlurWork, maxTransformMillis, bytes);
  }
}
