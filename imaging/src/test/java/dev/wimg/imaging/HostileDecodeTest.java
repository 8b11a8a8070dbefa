package dev.wimg.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.testsupport.RequiresLibvips;
import dev.wimg.imaging.internal.VipsEngine;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * Pictures that lie about themselves are a 422, and an output that does not hold the picture
 * it claims is never returned.
 */
@RequiresLibvips
class HostileDecodeTest {

  private final VipsEngine engine = VipsEngine.create(Limits.defaults());

  @Test
  void jpegWhoseHeaderClaimsMoreThanItsDataHoldsIsUnprocessable() throws IOException {
    // A 16x16 JPEG whose frame header says 7000x7000: libjpeg only warns ("premature end of data
    // segment") and libvips filled the rest with grey, answering a flat grey picture.
    ByteBuffer liar = jpegClaiming(7000, 7000);
    assertThatThrownBy(() -> engine.transform(liar, EngineContract.spec("w=300"), null))
        .isInstanceOf(ImageRequestException.class)
        .hasMessageStartingWith("source cannot be decoded: ")
        .hasMessageContaining("premature end of data segment")
        .extracting(e -> ((ImageRequestException) e).status()).isEqualTo(422);
  }

  @Test
  void jpegWhoseHeaderLiesIsUnprocessableOnTheCropPathToo() throws IOException {
    ByteBuffer liar = jpegClaiming(7000, 7000);
    assertThatThrownBy(() -> engine.transform(liar, EngineContract.spec("crop=0,0,2000,2000&w=100"), null))
        .isInstanceOf(ImageRequestException.class)
        .hasMessageContaining("premature end of data segment");
  }

  @Test
  void corruptTiffIsUnprocessableNotUnsupported() {
    byte[] tiff = new byte[200];
    Arrays.fill(tiff, (byte) 0x5A);
    tiff[0] = 'I';
    tiff[1] = 'I';
    tiff[2] = 42;
    tiff[3] = 0;
    assertThatThrownBy(() -> engine.transform(ByteBuffer.wrap(tiff), EngineContract.spec("w=10"), null))
        .isInstanceOf(ImageRequestException.class)
        .hasMessageStartingWith("source cannot be decoded: ")
        .extracting(e -> ((ImageRequestException) e).status()).isEqualTo(422);
  }

  @Test
  void corruptAvifIsUnprocessableNotUnsupported() {
    byte[] avif = Pictures.bytes("painting.avif");
    // The ftyp box stays (the format is known), everything after it is noise.
    int ftyp = ByteBuffer.wrap(avif).getInt(0);
    for (int i = ftyp; i < avif.length; i++) {
      avif[i] = (byte) (i * 31);
    }
    assertThatThrownBy(() -> engine.transform(ByteBuffer.wrap(avif), EngineContract.spec("w=10"), null))
        .isInstanceOf(ImageRequestException.class)
        .hasMessageStartingWith("source cannot be decoded: ")
        .extracting(e -> ((ImageRequestException) e).status()).isEqualTo(422);
  }

  @Test
  void heifWhoseFtypBoxIsCorruptIsUnprocessableNotUnsupported() {
    // The magic says HEIF ("ftypheic"), but the box claims 4 GB: libheif's sniffer refuses the
    // bytes and libvips offered the (blocked) ImageMagick loader, which was answered 501.
    ByteBuffer heif = ByteBuffer.allocate(224);
    heif.putInt(0xFFFF0000).put("ftypheic".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    while (heif.hasRemaining()) {
      heif.put((byte) (heif.position() * 37));
    }
    heif.flip();
    assertThatThrownBy(() -> engine.transform(heif, EngineContract.spec("w=10"), null))
        .isInstanceOf(ImageRequestException.class)
        .hasMessageStartingWith("source cannot be decoded: the heif loader does not accept these bytes")
        .extracting(e -> ((ImageRequestException) e).status()).isEqualTo(422);
  }

  @Test
  void outputThatDoesNotHoldItsPictureIsNeverReturned() {
    // libheif writes a 201-byte AVIF holding no image for a 1 x 100,000 picture, and it was
    // answered (and cached) as a 200.
    ByteBuffer column = Pictures.pngBomb(1, 100_000);
    assertThatThrownBy(() -> engine.transform(column, EngineContract.spec("w=300&format=avif"), null))
        .isInstanceOf(ImageRequestException.class)
        .hasMessageStartingWith("the avif encoder cannot write a 1x100000 picture: its output (")
        .extracting(e -> ((ImageRequestException) e).status()).isEqualTo(422);
    // The same picture as PNG is fine and holds what it says.
    TransformResult png = engine.transform(column, EngineContract.spec("w=300&format=png"), null);
    assertThat(engine.probe(png.data()).height()).isEqualTo(100_000);
  }

  /** A baseline JPEG of 16x16 grey pixels whose SOF0 says {@code width×height}. */
  private static ByteBuffer jpegClaiming(int width, int height) throws IOException {
    BufferedImage small = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(small, "jpeg", out);
    byte[] jpeg = out.toByteArray();
    for (int i = 2; i + 8 < jpeg.length; i++) {
      if ((jpeg[i] & 0xFF) == 0xFF && (jpeg[i + 1] & 0xFF) == 0xC0) {
        ByteBuffer.wrap(jpeg, i + 5, 4).putShort((short) height).putShort((short) width);
        return ByteBuffer.wrap(jpeg);
      }
    }
    throw new AssertionError("no SOF0 in the JPEG ImageIO wrote");
  }
}
