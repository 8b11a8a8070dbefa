package dev.wimg.imaging;

/**
 * What a picture's header says, read without decoding its pixels.
 *
 * @param format      the container format
 * @param width       stored width in pixels, before the EXIF orientation is applied
 * @param height      stored height in pixels, before the EXIF orientation is applied
 * @param pages       frames or pages in the file (1 for still pictures)
 * @param hasAlpha    whether the picture has an alpha channel (or a transparent palette entry)
 * @param orientation EXIF orientation 1..8 (1 when absent): 5..8 swap width and height on display
 */
public record ImageInfo(ImageFormat format, int width, int height, int pages, boolean hasAlpha,
                        int orientation) {

  public ImageInfo {
    if (width < 1 || height < 1) {
      throw new IllegalArgumentException("size must be positive, got " + width + "x" + height);
    }
    if (orientation < 1 || orientation > 8) {
      throw new IllegalArgumentException("orientation must be 1..8, got " + orientation);
    }
  }

  /** Width as the picture is shown, once the EXIF orientation is applied. */
  public int displayWidth() {
    return orientation >= 5 ? height : width;
  }

  /** Height as the picture is shown, once the EXIF orientation is applied. */
  public int displayHeight() {
    return orientation >= 5 ? width : height;
  }

  /** Pixels of one frame, as checked against {@link Limits#maxSourcePixels()}. */
  public long pixels() {
    return (long) width * height;
  }
}
