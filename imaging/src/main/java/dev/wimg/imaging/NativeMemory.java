package dev.wimg.imaging;

/**
 * Memory an engine's native library holds for pixels, outside the Java heap: for libvips its
 * tracked allocations ({@code vips_tracked_get_mem}, {@code vips_tracked_get_mem_highwater},
 * {@code vips_tracked_get_allocs}), which cover its pixel buffers but not what codecs such as
 * libheif or libjpeg allocate themselves.
 *
 * @param bytes          bytes held now
 * @param highWaterBytes most bytes held at once since the process started
 * @param allocations    buffers held now
 * @param reservedBytes  working memory the transforms in flight have reserved, from their
 *                       sources' headers (see {@link Limits#maxTransformMemory()}): this does
 *                       count what codecs allocate themselves
 * @param budgetBytes    the most they may reserve together, or 0 for an engine that reserves none
 */
public record NativeMemory(long bytes, long highWaterBytes, int allocations, long reservedBytes,
                           long budgetBytes) {

  /** An engine that holds no native memory. */
  public static final NativeMemory NONE = new NativeMemory(0, 0, 0, 0, 0);
}
