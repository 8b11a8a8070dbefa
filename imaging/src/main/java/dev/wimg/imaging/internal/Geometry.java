package dev.wimg.imaging.internal;

import dev.wimg.imaging.ImageRequestException;
import dev.wimg.imaging.Limits;
import dev.wimg.imaging.TransformSpec;
import dev.wimg.imaging.TransformSpec.Mode;

/**
 * Output sizes, the same for every engine: the size a source region is scaled to before the fill
 * crop, the pad, and the output rotation.
 *
 * <p>Rules: the box is turned when the output rotation swaps sides; {@code fit} and {@code pad}
 * never enlarge; {@code fill} covers the box; {@code stretch} is the box. Rounding is to the
 * nearest pixel with halves up, as libvips' thumbnail does, and the side that binds is exactly
 * the box's.
 *
 * <p>{@link #plan} checks every size a transform would make against the limits before an engine
 * makes any: libvips aborts the process on an internal assertion when an image side it is asked
 * to build is under 1 or over {@value #MAX_SIDE} (a 1 × 10,000,000 picture filled to 300 × 300
 * would first be scaled to 300 × 3,000,000,000), and an operation's cost follows the size of the
 * images it makes, not of the output.
 */
final class Geometry {

  private Geometry() {
  }

  /** Largest side of any image a transform makes: libvips' VIPS_MAX_COORD. */
  static final int MAX_SIDE = 10_000_000;

  /** A size in pixels. */
  record Size(int width, int height) {
    long pixels() {
      return (long) width * height;
    }

    @Override
    public String toString() {
      return width + "x" + height;
    }
  }

  /**
   * The sizes a transform of a {@code width×height} region (the source, or its crop, as shown)
   * makes.
   *
   * @param scaled the region scaled (for fill: before its crop)
   * @param output the final picture, after fill's crop or pad's border and the rotation
   */
  record Plan(Size scaled, Size output) {
  }

  /**
   * The sizes a transform makes, each checked against the limits.
   *
   * @throws ImageRequestException 422 naming the size and the limit it passes: an enlargement over
   *                               {@link Limits#maxEnlargement()}, a scaled picture or an output
   *                               over {@link Limits#maxOutputPixels()} or with a side over
   *                               {@value #MAX_SIDE}, a blur over {@link Limits#maxBlurWork()}
   */
  static Plan plan(TransformSpec spec, int width, int height, Limits limits) {
    if (width < 1 || height < 1) {
      throw unprocessable("the picture is " + width + "x" + height + " pixels");
    }
    String region = "the " + width + "x" + height + " picture";
    if (spec.mode() == Mode.FILL || spec.mode() == Mode.STRETCH) {
      boolean turn = Orientation.rotationSwapsSides(spec);
      int boxW = turn ? spec.height() : spec.width();
      int boxH = turn ? spec.width() : spec.height();
      double across = (double) boxW / width;
      double down = (double) boxH / height;
      // fill scales both sides by the larger factor; stretch each by its own
      double enlargement = Math.max(across, down);
      if (enlargement > limits.maxEnlargement()) {
        throw unprocessable(region + " would be enlarged " + times(enlargement) + " times to "
            + spec.mode().token() + " " + spec.width() + "x" + spec.height()
            + ", over the limit of " + limits.maxEnlargement() + " times");
      }
    }
    Size scaled = scaled(spec, width, height);
    if (scaled.width() > MAX_SIDE || scaled.height() > MAX_SIDE
        || scaled.pixels() > limits.maxOutputPixels()) {
      throw unprocessable(region + " would be scaled to " + scaled + " = " + scaled.pixels()
          + " pixels" + (spec.mode() == Mode.FILL ? " before its crop" : "")
          + ", over the limit of " + limits.maxOutputPixels() + " pixels"
          + (scaled.width() > MAX_SIDE || scaled.height() > MAX_SIDE
              ? " and of " + MAX_SIDE + " pixels a side" : ""));
    }
    Size output = spec.mode() != Mode.FIT ? new Size(spec.width(), spec.height())
        : Orientation.rotationSwapsSides(spec) ? new Size(scaled.height(), scaled.width()) : scaled;
    if (output.pixels() > limits.maxOutputPixels()) {
      throw unprocessable("the output would be " + output + " = " + output.pixels()
          + " pixels, over the limit of " + limits.maxOutputPixels() + " pixels");
    }
    if (spec.blur() > 0 && output.pixels() * spec.blur() > limits.maxBlurWork()) {
      throw unprocessable("blur=" + java.math.BigDecimal.valueOf(spec.blur()).stripTrailingZeros()
          .toPlainString() + " on a " + output + " output costs "
          + (long) (output.pixels() * spec.blur()) + " pixel-sigmas, over the limit of "
          + limits.maxBlurWork());
    }
    return new Plan(scaled, output);
  }

  private static String times(double factor) {
    return factor >= 100 ? Long.toString(Math.round(factor))
        : java.math.BigDecimal.valueOf(factor).setScale(1, java.math.RoundingMode.HALF_UP)
            .stripTrailingZeros().toPlainString();
  }

  private static ImageRequestException unprocessable(String message) {
    return new ImageRequestException(ImageRequestException.UNPROCESSABLE, message);
  }

  /** The size a {@code width×height} region is scaled to (for fill: before its crop). */
  static Size scaled(TransformSpec spec, int width, int height) {
    boolean turn = Orientation.rotationSwapsSides(spec);
    int boxW = turn ? spec.height() : spec.width();
    int boxH = turn ? spec.width() : spec.height();
    return switch (spec.mode()) {
      case STRETCH -> new Size(boxW, boxH);
      case FILL -> {
        if ((long) width * boxH > (long) height * boxW) { // too wide: the height binds
          yield new Size(Math.max(boxW, clamp(Math.round((double) width * boxH / height))), boxH);
        }
        yield new Size(boxW, Math.max(boxH, clamp(Math.round((double) height * boxW / width))));
      }
      case FIT, PAD -> {
        double scale = 1;
        if (boxW != TransformSpec.UNSET) {
          scale = Math.min(scale, (double) boxW / width);
        }
        if (boxH != TransformSpec.UNSET) {
          scale = Math.min(scale, (double) boxH / height);
        }
        if (scale >= 1) {
          yield new Size(width, height);
        }
        boolean widthBinds = boxW != TransformSpec.UNSET
            && (boxH == TransformSpec.UNSET || (long) width * boxH >= (long) height * boxW);
        yield widthBinds
            ? new Size(boxW, Math.max(1, (int) Math.round((double) height * boxW / width)))
            : new Size(Math.max(1, (int) Math.round((double) width * boxH / height)), boxH);
      }
    };
  }

  /** A side computed in {@code long}, kept in {@code int} range so a check can name it. */
  private static int clamp(long side) {
    return (int) Math.min(Integer.MAX_VALUE, side);
  }
}
