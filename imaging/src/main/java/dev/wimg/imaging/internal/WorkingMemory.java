package dev.wimg.imaging.internal;

import dev.wimg.imaging.ImageFormat;
import dev.wimg.imaging.ImageRequestException;
import dev.wimg.imaging.Limits;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The memory a libvips transform holds while it runs, estimated from the source's header before a
 * pixel is decoded, and the gate that keeps the sum over the transforms in flight under
 * {@link Limits#maxTransformMemory()}.
 *
 * <p>Most sources are read line by line and cost a few lines of buffers whatever their size; the
 * ones a decoder must hold whole cost a multiple of their decoded size, and nothing in the file's
 * own size says so (a 33 KB GIF decodes to 200 MB). Factors of the decoded size (width × height ×
 * bands × bytes per band), measured as the peak RSS of {@code vipsthumbnail -s 300} over its idle
 * 37 MB, libvips 8.14.1, 5 December 2026:
 *
 * <table>
 *   <caption>Working memory per decoded byte</caption>
 *   <tr><th>source</th><th>measured</th><th>factor used</th></tr>
 *   <tr><td>GIF (one frame, decoded whole by libnsgif)</td>
 *       <td>65,535 × 762: 300 MB = 2.0 × 150 MB</td><td>2.5</td></tr>
 *   <tr><td>PNG, interlaced (Adam7)</td><td>7000 × 7000 RGB: 304 MB = 2.1 × 147 MB</td>
 *       <td>2.5</td></tr>
 *   <tr><td>JPEG, progressive</td><td>7000 × 7000: 144 MB = 1.0 × 147 MB</td><td>1.25</td></tr>
 *   <tr><td>HEIF, AVIF (libheif decodes whole)</td>
 *       <td>4000 × 4000: 204 MB = 4.3 × 48 MB; 2000 × 2000: 52 MB = 4.3 × 12 MB</td><td>5</td></tr>
 *   <tr><td>anything else (line by line)</td>
 *       <td>PNG 7000 × 7000: 37 MB = 0.25 ×; deflate TIFF: 58 MB = 0.4 ×; baseline JPEG: 3 MB</td>
 *       <td>0.5</td></tr>
 * </table>
 *
 * <p>A rotation or vertical flip adds the picture computed into memory first (4 bytes per output
 * pixel), and the encoder adds its own: JPEG and PNG write line by line, while libwebp and the AV1
 * encoder take the whole picture and work on copies of it. Measured as the server's peak RSS over
 * one 4096 × 4096 output (16.7 MP), 5 December 2026: AVIF 370 MB, 22 bytes a pixel (two at once
 * took {@code ./wimg server} to 998 MB); WebP with {@code vips webpsave} 163 MB, 10 bytes a pixel.
 */
final class WorkingMemory {

  /** The gate counts in KiB, so that a {@code Semaphore}'s int permits cover 1 TiB. */
  private static final int UNIT_SHIFT = 10;

  private final Semaphore free;
  private final long budget;

  WorkingMemory(long budgetBytes) {
    this.budget = budgetBytes;
    // Fair: a large transform at the head of the queue is not overtaken for ever by small ones.
    this.free = new Semaphore(units(budgetBytes), true);
  }

  /**
   * The estimated working memory of a transform, in bytes.
   *
   * @param source            the source's format
   * @param interlaced        whether the source is interlaced (progressive JPEG, Adam7 PNG)
   * @param decodedBytes      the source's decoded size from its header
   * @param materializedBytes bytes of a picture computed into memory on the way, or 0
   * @param output            the format written
   * @param outputPixels      width × height of the output
   */
  static long estimate(ImageFormat source, boolean interlaced, long decodedBytes,
                       long materializedBytes, ImageFormat output, long outputPixels) {
    double decoder = switch (source) {
      case GIF -> 2.5;
      case PNG -> interlaced ? 2.5 : 0.5;
      case JPEG -> interlaced ? 1.25 : 0.5;
      case HEIF, AVIF -> 5;
      default -> 0.5;
    };
    long encoderBytesPerPixel = switch (output) {
      case AVIF -> 22;
      case WEBP -> 10;
      default -> 0;
    };
    return (long) Math.ceil(decodedBytes * decoder) + materializedBytes
        + encoderBytesPerPixel * outputPixels;
  }

  /**
   * Reserves {@code bytes} until the returned permit is closed, waiting while the transforms in
   * flight hold too much.
   *
   * @param what         the source, as the refusal names it ("GIF 65535x762")
   * @param maxWaitNanos how long to wait for the share to be free
   * @throws ImageRequestException 422 when {@code bytes} alone pass the budget (it could never
   *                               run), 503 when the share is not free within the wait
   */
  Permit enter(long bytes, String what, long maxWaitNanos) {
    if (bytes > budget) {
      throw new ImageRequestException(ImageRequestException.UNPROCESSABLE, "the " + what
          + " source needs an estimated " + megabytes(bytes) + " MB of working memory to"
          + " transform, over the transform memory budget of " + megabytes(budget) + " MB");
    }
    int units = units(bytes);
    boolean entered;
    try {
      entered = free.tryAcquire(units, maxWaitNanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      entered = false;
    }
    if (!entered) {
      throw new ImageRequestException(ImageRequestException.OVER_BUDGET, "the transform waited "
          + TimeUnit.NANOSECONDS.toMillis(maxWaitNanos) + " ms for " + megabytes(bytes)
          + " MB of working memory, held by other transforms in flight");
    }
    return new Permit(units);
  }

  /** Bytes reserved by the transforms in flight now. */
  long reserved() {
    return (long) (units(budget) - free.availablePermits()) << UNIT_SHIFT;
  }

  private static int units(long bytes) {
    return (int) Math.max(1, (bytes + (1 << UNIT_SHIFT) - 1) >>> UNIT_SHIFT);
  }

  private static long megabytes(long bytes) {
    return Math.ceilDiv(bytes, 1_000_000);
  }

  /** A transform's reservation; closing it gives the memory back, once. */
  final class Permit implements AutoCloseable {
    private int units;

    private Permit(int units) {
      this.units = units;
    }

    @Override
    public void close() {
      if (units > 0) {
        free.release(units);
        units = 0;
      }
    }
  }
}
