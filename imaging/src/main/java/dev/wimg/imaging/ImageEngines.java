package dev.wimg.imaging;

import dev.wimg.imaging.internal.JavaImageEngine;
import dev.wimg.imaging.internal.RoutingEngine;
import dev.wimg.imaging.internal.Vips;
import dev.wimg.imaging.internal.VipsEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Makes the process's image engine. */
public final class ImageEngines {

  private static final Logger LOG = LoggerFactory.getLogger(ImageEngines.class);

  private ImageEngines() {
  }

  /**
   * libvips when {@value Vips#LIBRARY} loads (with the Java engine behind it for the formats
   * libvips does not read), else the pure-Java engine. Logs which, and why when it falls back.
   * libvips' thread and cache bounds are process-wide: call once per process.
   */
  public static ImageEngine detect(Limits limits) {
    VipsEngine vips;
    try {
      vips = VipsEngine.create(limits);
    } catch (UnsupportedOperationException e) {
      JavaImageEngine java = new JavaImageEngine(limits);
      LOG.warn("imaging engine: {} (no WebP/AVIF, no smart crop, slower), because {}; "
          + "for libvips: apt-get install libvips42", java.name(), e.getMessage());
      return java;
    }
    LOG.info("imaging engine: {} (java for the formats it does not read)", vips.name());
    return new RoutingEngine(vips, new JavaImageEngine(limits));
  }

  /** The pure-Java engine, whether or not libvips is present. */
  public static ImageEngine java(Limits limits) {
    return new JavaImageEngine(limits);
  }

  /**
   * The libvips engine alone.
   *
   * @throws UnsupportedOperationException naming why when libvips cannot be loaded
   */
  public static ImageEngine vips(Limits limits) {
    return VipsEngine.create(limits);
  }
}
