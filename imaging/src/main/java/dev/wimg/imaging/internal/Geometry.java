package dev.wimg.imaging.internal;

import dev.wimg.imaging.TransformSpec;

/**
 * Output sizes, the same for every engine: the size a source region is scaled to before the fill
 * crop, the pad, and the output rotation.
 *
 * <p>Rules: the box is turned when the output rotation swaps sides; {@code fit} and {@code pad}
 * never enlarge; {@code fill} covers the box; {@code stretch} is the box. Rounding is to the
 * nearest pixel with halves up, as libvips' thumbnail does, and the side that binds is exactly
 * the box's.
 */
final class Geometry {

  private Geometry() {
  }

  /** A size in pixels. */
  record Size(int width, int height) {
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
          yield new Size(Math.max(boxW, (int) Math.round((double) width * boxH / height)), boxH);
        }
        yield new Size(boxW, Math.max(boxH, (int) Math.round((double) height * boxW / width)));
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
}
