package dev.wimg.imaging.internal;

import dev.wimg.imaging.ImageFormat;
import dev.wimg.imaging.ImageRequestException;
import dev.wimg.imaging.Limits;
import java.nio.ByteBuffer;
import java.util.HexFormat;

/** The checks every engine makes on a source before decoding it, with the same messages. */
final class SourceChecks {

  /** Bytes of a non-picture quoted in the 415 message. */
  private static final int QUOTED_MAGIC = 8;

  private SourceChecks() {
  }

  /**
   * The source's format from its magic bytes.
   *
   * @throws ImageRequestException 415 quoting the first bytes when it is not a picture
   */
  static ImageFormat format(ByteBuffer source) {
    return ImageFormat.sniff(source).orElseThrow(() -> {
      ByteBuffer b = source.slice();
      byte[] start = new byte[Math.min(QUOTED_MAGIC, b.remaining())];
      b.get(start);
      return new ImageRequestException(ImageRequestException.UNSUPPORTED_MEDIA_TYPE,
          "source is not a picture" + (start.length == 0 ? " (0 bytes)"
              : " (starts with " + HexFormat.ofDelimiter(" ").formatHex(start) + ")"));
    });
  }

  /**
   * Refuses a source whose header claims more pixels than the limit.
   *
   * @throws ImageRequestException 422 naming the size and the limit
   */
  static void checkPixels(int width, int height, Limits limits) {
    long pixels = (long) width * height;
    if (pixels > limits.maxSourcePixels()) {
      throw new ImageRequestException(ImageRequestException.UNPROCESSABLE, "source is " + width
          + "x" + height + " = " + pixels + " pixels, over the limit of "
          + limits.maxSourcePixels() + " pixels");
    }
  }

  /**
   * Refuses a source with more bands than the limit, or whose decoded pixels (width × height ×
   * bands × bytes per band) pass the byte limit: the pixel limit alone lets a 7000 × 7000 TIFF of
   * 64 bands through, 3.1 GB decoded.
   *
   * @throws ImageRequestException 422 naming the numbers and the limit
   */
  static void checkDecodedSize(int width, int height, int bands, int bytesPerBand,
                               Limits limits) {
    if (bands > limits.maxSourceBands()) {
      throw new ImageRequestException(ImageRequestException.UNPROCESSABLE, "source has " + bands
          + " bands, over the limit of " + limits.maxSourceBands() + " bands");
    }
    long bytes = (long) width * height * bands * bytesPerBand;
    if (bytes > limits.maxSourceBytes()) {
      throw new ImageRequestException(ImageRequestException.UNPROCESSABLE, "source is " + width
          + "x" + height + " pixels of " + bands + " bands of " + bytesPerBand
          + (bytesPerBand == 1 ? " byte" : " bytes") + " = " + bytes
          + " bytes decoded, over the limit of " + limits.maxSourceBytes() + " bytes");
    }
  }

  /**
   * The 503 of a transform that ran past {@link Limits#maxTransformMillis()}, with the same
   * message from every engine.
   */
  static ImageRequestException overBudget(Limits limits) {
    return new ImageRequestException(ImageRequestException.OVER_BUDGET,
        "the transform ran past its budget of " + limits.maxTransformMillis() + " ms and was stopped");
  }

  /** A 422 for bytes that cannot be decoded, with the decoder's reason. */
  static ImageRequestException undecodable(String reason) {
    return new ImageRequestException(ImageRequestException.UNPROCESSABLE,
        "source cannot be decoded: " + reason);
  }
}
