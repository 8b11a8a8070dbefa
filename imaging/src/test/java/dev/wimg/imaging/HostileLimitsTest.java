package dev.wimg.imaging;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.testsupport.RequiresLibvips;
import dev.wimg.imaging.internal.VipsEngine;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * Limits by bytes as well as pixels: a source's decoded size and bands, the output's area, how far
 * a picture may be enlarged and what a blur may cost, each refused with the numbers before
 * libvips does the work (the costs quoted were measured on the code before these limits).
 */
@RequiresLibvips
class HostileLimitsTest {

  private final VipsEngine engine = VipsEngine.create(Limits.defaults());

  private static TransformSpec spec(String query) {
    return EngineContract.spec(query);
  }

  @Test
  void sourceWithSixtyFourBandsIsRefusedFromItsHeader() {
    // 7000 x 7000 x 64 bands decodes to 3.1 GB: 13 s and a 2.1 GB peak before the band limit.
    ByteBuffer tiff = Pictures.tiffHeaderOnly(7000, 7000, 64);
    assertThatThrownBy(() -> engine.transform(tiff, spec("w=300"), null))
        .isInstanceOf(ImageRequestException.class)
        .hasMessage("source has 64 bands, over the limit of 5 bands")
        .extracting(e -> ((ImageRequestException) e).status()).isEqualTo(422);
  }

  @Test
  void sourceWhoseDecodedBytesPassTheLimitIsRefusedFromItsHeader() {
    // 7000 x 7000 = 49 megapixels passes the pixel limit; 16-bit RGBA makes it 392 MB.
    ByteBuffer png = Pictures.pngHeaderOnly(7000, 7000, 16, 6);
    assertThatThrownBy(() -> engine.transform(png, spec("w=300"), null))
        .isInstanceOf(ImageRequestException.class)
        .hasMessage("source is 7000x7000 pixels of 4 bands of 2 bytes = 392000000 bytes decoded,"
            + " over the limit of 200000000 bytes");
  }

  @Test
  void thinColumnFilledToASquareIsRefusedAsTooGreatAnEnlargement() {
    // 124 bytes of PNG; filling 300x300 scaled it to 300 x 3,000,000 first: 58 s and 3 GB.
    ByteBuffer png = Pictures.pngBomb(1, 10_000);
    assertThatThrownBy(() -> engine.transform(png, spec("w=300&h=300&mode=fill&format=webp"), null))
        .isInstanceOf(ImageRequestException.class)
        .hasMessage("the 1x10000 picture would be enlarged 300 times to fill 300x300,"
            + " over the limit of 16 times")
        .extracting(e -> ((ImageRequestException) e).status()).isEqualTo(422);
  }

  @Test
  void smallPictureFilledToALargeBoxIsRefusedAsTooGreatAnEnlargement() {
    // A 100 x 1000 JPEG to 8192 x 8192 took 41 s and 2.4 GB; that box is now a 400 by itself
    // (see outputAreaOverTheLimitIsABadUrl), and 4096 x 4096 from a 100 px wide crop is still 41 times its width.
    ByteBuffer jpeg = Pictures.heap("painting.jpg");
    assertThatThrownBy(() -> engine.transform(jpeg, spec("w=4096&h=4096&mode=fill&crop=0,0,100,400"), null))
        .isInstanceOf(ImageRequestException.class)
        .hasMessage("the 100x400 picture would be enlarged 41 times to fill 4096x4096,"
            + " over the limit of 16 times");
  }

  @Test
  void stretchIsHeldToTheSameEnlargementLimit() {
    ByteBuffer png = Pictures.pngBomb(10, 10);
    assertThatThrownBy(() -> engine.transform(png, spec("w=170&h=10&mode=stretch"), null))
        .isInstanceOf(ImageRequestException.class)
        .hasMessage("the 10x10 picture would be enlarged 17 times to stretch 170x10,"
            + " over the limit of 16 times");
  }

  @Test
  void outputAreaOverTheLimitIsABadUrl() {
    // A 400 px JPEG to 8192 x 8192 AVIF took 10 s and 2 GB.
    assertThatThrownBy(() -> spec("w=8192&h=8192&mode=fill&format=avif"))
        .isInstanceOf(ImageRequestException.class)
        .hasMessage("w x h must be at most 16777216 pixels for mode=fill, got 8192x8192 = 67108864")
        .extracting(e -> ((ImageRequestException) e).status()).isEqualTo(400);
  }

  @Test
  void fitWhoseOutputPassesTheAreaLimitIsRefusedBeforeDecoding() {
    ByteBuffer png = Pictures.pngHeaderOnly(8000, 6000, 8, 2);
    assertThatThrownBy(() -> engine.transform(png, spec("w=8192"), null))
        .isInstanceOf(ImageRequestException.class)
        .hasMessage("the 8000x6000 picture would be scaled to 8000x6000 = 48000000 pixels,"
            + " over the limit of 16777216 pixels");
  }

  @Test
  void blurIsBoundedByTheOutputSize() {
    // w=8192&h=8192&mode=fill&blur=100 on a 24 MP photo: 177 s of CPU. The URL says it all:
    assertThatThrownBy(() -> spec("w=4096&h=4096&mode=fill&blur=100"))
        .isInstanceOf(ImageRequestException.class)
        .hasMessage("blur x w x h must be at most 400000000, got blur=100 on 4096x4096 = 1677721600");
    // With fit the output size comes from the source:
    ByteBuffer png = Pictures.pngHeaderOnly(4000, 3000, 8, 2);
    assertThatThrownBy(() -> engine.transform(png, spec("w=4000&blur=100"), null))
        .isInstanceOf(ImageRequestException.class)
        .hasMessage("blur=100 on a 4000x3000 output costs 1200000000 pixel-sigmas,"
            + " over the limit of 400000000")
        .extracting(e -> ((ImageRequestException) e).status()).isEqualTo(422);
  }
}
