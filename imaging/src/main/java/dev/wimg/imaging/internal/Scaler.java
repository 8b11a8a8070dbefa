package dev.wimg.imaging.internal;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/**
 * Resizes pictures for the Java engine.
 *
 * <p>Implementation notes: one bilinear step from a large picture to a small one samples only a
 * few source pixels per output pixel and aliases badly; bicubic in one step is slow and still
 * aliases. Halving repeatedly with bilinear filtering until within a factor of two of the target,
 * then one last bilinear step, averages every source pixel at a cost of about 4/3 of one pass
 * (the technique of Chris Campbell, "The Perils of Image.getScaledInstance()", 2007).
 * Enlarging is one bicubic step.
 */
final class Scaler {

  private Scaler() {
  }

  /** {@code image} scaled to exactly {@code width×height}; the same image when already so. */
  static BufferedImage scale(BufferedImage image, int width, int height) {
    BufferedImage current = image;
    int w = current.getWidth();
    int h = current.getHeight();
    if (w == width && h == height) {
      return image;
    }
    while (w / 2 >= width && h / 2 >= height) {
      w = Math.max(w / 2, width);
      h = Math.max(h / 2, height);
      current = draw(current, w, h, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    }
    if (w != width || h != height) {
      boolean enlarging = width > w || height > h;
      current = draw(current, width, height, enlarging
          ? RenderingHints.VALUE_INTERPOLATION_BICUBIC : RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    }
    return current;
  }

  private static BufferedImage draw(BufferedImage source, int width, int height, Object interpolation) {
    BufferedImage target = new BufferedImage(width, height, source.getType());
    Graphics2D g = target.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, interpolation);
      g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
      g.setComposite(java.awt.AlphaComposite.Src);
      g.drawImage(source, 0, 0, width, height, null);
    } finally {
      g.dispose();
    }
    return target;
  }
}
