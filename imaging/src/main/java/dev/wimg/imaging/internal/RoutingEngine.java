package dev.wimg.imaging.internal;

import dev.wimg.imaging.ImageEngine;
import dev.wimg.imaging.ImageFormat;
import dev.wimg.imaging.ImageInfo;
import dev.wimg.imaging.NativeMemory;
import dev.wimg.imaging.TransformResult;
import dev.wimg.imaging.TransformSpec;
import java.nio.ByteBuffer;
import java.util.Set;

/**
 * libvips for every source it reads, the Java engine for the few it does not (BMP: libvips
 * reads it only through ImageMagick, which is blocked as untrusted). A source is routed by its
 * sniffed format, so the Java engine's 501s (WebP output...) apply to those sources only.
 */
public final class RoutingEngine implements ImageEngine {

  private final VipsEngine vips;
  private final JavaImageEngine java;

  public RoutingEngine(VipsEngine vips, JavaImageEngine java) {
    this.vips = vips;
    this.java = java;
  }

  private ImageEngine engineFor(ByteBuffer source) {
    ImageFormat format = SourceChecks.format(source);
    return !vips.reads(format) && JavaImageEngine.reads(format) ? java : vips;
  }

  @Override
  public TransformResult transform(ByteBuffer source, TransformSpec spec, String acceptHeader) {
    return engineFor(source).transform(source, spec, acceptHeader);
  }

  @Override
  public ImageInfo probe(ByteBuffer source) {
    return engineFor(source).probe(source);
  }

  @Override
  public String name() {
    return vips.name();
  }

  @Override
  public NativeMemory nativeMemory() {
    return vips.nativeMemory();
  }

  @Override
  public Set<String> outputFormats() {
    return vips.outputFormats();
  }
}
