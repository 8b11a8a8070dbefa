package dev.wimg.imaging.internal;

import java.awt.image.BufferedImage;

/**
 * Approximate gaussian blur for the Java engine: three box blurs in each direction, whose sizes
 * are chosen so their combined variance matches sigma² (W. Jarosz, "Fast Image Convolutions",
 * 2001; P. Kovesi, "Fast Almost-Gaussian Filtering", 2010). Cost is independent of sigma; edges
 * are extended. Works on premultiplied-free ARGB ints channel by channel.
 */
final class GaussianBlur {

  /** Box passes per direction. */
  private static final int PASSES = 3;

  private GaussianBlur() {
  }

  static BufferedImage blur(BufferedImage image, double sigma) {
    int w = image.getWidth();
    int h = image.getHeight();
    int[] pixels = image.getRGB(0, 0, w, h, null, 0, w);
    int[] radii = boxRadii(sigma);
    int[] scratch = new int[pixels.length];
    for (int radius : radii) {
      horizontal(pixels, scratch, w, h, radius);
      vertical(scratch, pixels, w, h, radius);
    }
    BufferedImage out = new BufferedImage(w, h, image.getType());
    out.setRGB(0, 0, w, h, pixels, 0, w);
    return out;
  }

  /** Radii of the {@value #PASSES} boxes whose combined variance is closest to sigma². */
  static int[] boxRadii(double sigma) {
    double ideal = Math.sqrt(12 * sigma * sigma / PASSES + 1);
    int lower = (int) Math.floor(ideal);
    if (lower % 2 == 0) {
      lower--;
    }
    int upper = lower + 2;
    double m = (12 * sigma * sigma - PASSES * lower * lower - 4 * PASSES * lower - 3 * PASSES)
        / (-4.0 * lower - 4);
    long wide = Math.round(m);
    int[] radii = new int[PASSES];
    for (int i = 0; i < PASSES; i++) {
      radii[i] = ((i < wide ? lower : upper) - 1) / 2;
    }
    return radii;
  }

  private static void horizontal(int[] src, int[] dst, int w, int h, int r) {
    int span = 2 * r + 1;
    for (int y = 0; y < h; y++) {
      int row = y * w;
      int[] sum = new int[4];
      for (int i = -r; i <= r; i++) {
        add(sum, src[row + clamp(i, w)], 1);
      }
      for (int x = 0; x < w; x++) {
        dst[row + x] = pack(sum, span);
        add(sum, src[row + clamp(x + r + 1, w)], 1);
        add(sum, src[row + clamp(x - r, w)], -1);
      }
    }
  }

  private static void vertical(int[] src, int[] dst, int w, int h, int r) {
    int span = 2 * r + 1;
    for (int x = 0; x < w; x++) {
      int[] sum = new int[4];
      for (int i = -r; i <= r; i++) {
        add(sum, src[clamp(i, h) * w + x], 1);
      }
      for (int y = 0; y < h; y++) {
        dst[y * w + x] = pack(sum, span);
        add(sum, src[clamp(y + r + 1, h) * w + x], 1);
        add(sum, src[clamp(y - r, h) * w + x], -1);
      }
    }
  }

  private static int clamp(int i, int n) {
    return i < 0 ? 0 : i >= n ? n - 1 : i;
  }

  private static void add(int[] sum, int argb, int sign) {
    sum[0] += sign * (argb >>> 24);
    sum[1] += sign * ((argb >>> 16) & 0xFF);
    sum[2] += sign * ((argb >>> 8) & 0xFF);
    sum[3] += sign * (argb & 0xFF);
  }

  private static int pack(int[] sum, int n) {
    int half = n / 2;
    return ((sum[0] + half) / n) << 24 | ((sum[1] + half) / n) << 16 | ((sum[2] + half) / n) << 8
        | ((sum[3] + half) / n);
  }
}
