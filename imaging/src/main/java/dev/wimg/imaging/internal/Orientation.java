package dev.wimg.imaging.internal;

import dev.wimg.imaging.ImageRequestException;
import dev.wimg.imaging.TransformSpec;
import dev.wimg.imaging.TransformSpec.Crop;
import dev.wimg.imaging.TransformSpec.Gravity;

/**
 * Geometry shared by the engines: EXIF orientations, where a crop given in display coordinates
 * lies in the stored pixels, and which side of the picture a gravity means before the output is
 * rotated and mirrored.
 *
 * <p>EXIF orientation (tag 0x0112) says how the stored pixels must be turned to be shown:
 * <pre>
 * value  stored → shown                 shown pixel (dx, dy) comes from stored (sx, sy)
 * 1      as is                          (dx, dy)
 * 2      mirror left-right              (W-1-dx, dy)
 * 3      rotate 180                     (W-1-dx, H-1-dy)
 * 4      mirror top-bottom              (dx, H-1-dy)
 * 5      transpose                      (dy, dx)
 * 6      rotate 90 clockwise            (dy, H-1-dx)
 * 7      transverse                     (W-1-dy, H-1-dx)
 * 8      rotate 270 clockwise           (W-1-dy, dx)
 * </pre>
 * where W×H is the stored size; orientations 5..8 show an H×W picture.
 */
public final class Orientation {

  private Orientation() {
  }

  /**
   * Checks that a crop lies inside the shown picture.
   *
   * @throws ImageRequestException 400 naming the crop and the picture's size
   */
  public static void checkInside(Crop crop, int displayWidth, int displayHeight) {
    if ((long) crop.x() + crop.width() > displayWidth
        || (long) crop.y() + crop.height() > displayHeight) {
      throw new ImageRequestException(ImageRequestException.BAD_REQUEST, "crop " + crop
          + " is outside the " + displayWidth + "x" + displayHeight + " picture");
    }
  }

  /**
   * The stored-pixel rectangle holding a crop given in shown coordinates.
   *
   * @param crop         inside the shown picture (see {@link #checkInside})
   * @param storedWidth  W
   * @param storedHeight H
   * @param orientation  1..8
   * @return {x, y, width, height} in stored pixels
   */
  public static int[] storedRect(Crop crop, int storedWidth, int storedHeight, int orientation) {
    int x = crop.x();
    int y = crop.y();
    int w = crop.width();
    int h = crop.height();
    int bigW = storedWidth;
    int bigH = storedHeight;
    return switch (orientation) {
      case 1 -> new int[] {x, y, w, h};
      case 2 -> new int[] {bigW - x - w, y, w, h};
      case 3 -> new int[] {bigW - x - w, bigH - y - h, w, h};
      case 4 -> new int[] {x, bigH - y - h, w, h};
      case 5 -> new int[] {y, x, h, w};
      case 6 -> new int[] {y, bigH - x - w, h, w};
      case 7 -> new int[] {bigW - y - h, bigH - x - w, h, w};
      case 8 -> new int[] {bigW - y - h, x, h, w};
      default -> throw new IllegalArgumentException("orientation must be 1..8, got " + orientation);
    };
  }

  /**
   * The gravity to use when resizing, before the output is rotated, flipped and flopped, so that
   * the side the request named is the side kept in the final output.
   */
  public static Gravity beforeRotation(TransformSpec spec) {
    Gravity g = spec.gravity();
    if (g == Gravity.CENTER || g == Gravity.SMART) {
      return g;
    }
    int dx = g == Gravity.EAST ? 1 : g == Gravity.WEST ? -1 : 0;
    int dy = g == Gravity.SOUTH ? 1 : g == Gravity.NORTH ? -1 : 0;
    if (spec.flop()) {
      dx = -dx;
    }
    if (spec.flip()) {
      dy = -dy;
    }
    for (int turns = spec.rotate() / 90; turns > 0; turns--) {
      int t = dx;
      dx = dy;
      dy = -t;
    }
    return dx > 0 ? Gravity.EAST : dx < 0 ? Gravity.WEST : dy > 0 ? Gravity.SOUTH : Gravity.NORTH;
  }

  /** True when the output rotation swaps width and height, so the resize box is turned. */
  public static boolean rotationSwapsSides(TransformSpec spec) {
    return spec.rotate() == 90 || spec.rotate() == 270;
  }
}
