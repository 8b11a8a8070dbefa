package dev.wimg.imaging.internal;

import java.awt.image.BufferedImage;

/**
 * Exact quarter turns and mirrors of a picture for the Java engine: pixels are moved, never
 * resampled.
 */
final class Turns {

  private Turns() {
  }

  /**
   * Applies, in order, a clockwise rotation by {@code quarterTurns}·90°, then a top-to-bottom
   * mirror ({@code flip}), then a left-to-right mirror ({@code flop}).
   */
  static BufferedImage apply(BufferedImage image, int quarterTurns, boolean flip, boolean flop) {
    int turns = Math.floorMod(quarterTurns, 4);
    if (turns == 0 && !flip && !flop) {
      return image;
    }
    int w = image.getWidth();
    int h = image.getHeight();
    int[] src = image.getRGB(0, 0, w, h, null, 0, w);
    int ow = turns % 2 == 0 ? w : h;
    int oh = turns % 2 == 0 ? h : w;
    int[] dst = new int[src.length];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int tx;
        int ty;
        switch (turns) {
          case 1 -> { // clockwise: (x, y) -> (h-1-y, x)
            tx = h - 1 - y;
            ty = x;
          }
          case 2 -> {
            tx = w - 1 - x;
            ty = h - 1 - y;
          }
          case 3 -> {
            tx = y;
            ty = w - 1 - x;
          }
          default -> {
            tx = x;
            ty = y;
          }
        }
        if (flip) {
          ty = oh - 1 - ty;
        }
        if (flop) {
          tx = ow - 1 - tx;
        }
        dst[ty * ow + tx] = src[y * w + x];
      }
    }
    BufferedImage out = new BufferedImage(ow, oh, image.getType());
    out.setRGB(0, 0, ow, oh, dst, 0, ow);
    return out;
  }

  /**
   * Turns stored pixels upright for an EXIF orientation (see {@link Orientation}): 2 flop,
   * 3 half turn, 4 flip, 5 quarter turn and flop (transpose), 6 quarter turn, 7 quarter turn and
   * flip (transverse), 8 three quarter turns.
   */
  static BufferedImage upright(BufferedImage image, int orientation) {
    return switch (orientation) {
      case 2 -> apply(image, 0, false, true);
      case 3 -> apply(image, 2, false, false);
      case 4 -> apply(image, 0, true, false);
      case 5 -> apply(image, 1, false, true);
      case 6 -> apply(image, 1, false, false);
      case 7 -> apply(image, 1, true, false);
      case 8 -> apply(image, 3, false, false);
      default -> image;
    };
  }
}
