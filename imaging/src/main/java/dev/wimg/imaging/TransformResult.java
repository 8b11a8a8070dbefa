package dev.wimg.imaging;

import java.nio.ByteBuffer;

/**
 * An encoded output picture.
 *
 * @param data   the encoded bytes, read-only, position 0
 * @param format the output format
 * @param width  output width in pixels
 * @param height output height in pixels
 */
public record TransformResult(ByteBuffer data, ImageFormat format, int width, int height) {

  public TransformResult {
    data = data.asReadOnlyBuffer();
  }

  /** The media type, for {@code Content-Type}. */
  public String mime() {
    return format.mime();
  }

  /** A copy of the encoded bytes. */
  public byte[] bytes() {
    byte[] out = new byte[data.remaining()];
    data.duplicate().get(out);
    return out;
  }
}
