package dev.wimg.imaging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.testsupport.RequiresLibvips;
import dev.wimg.imaging.internal.VipsEngine;
import java.awt.color.ColorSpace;
import java.awt.color.ICC_Profile;
import java.awt.image.BufferedImage;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Colours: a picture without a profile is sRGB and keeps its values; a tagged one is converted
 * to sRGB. Before, every untagged picture went through libvips' sRGB import and export and came
 * back shifted (grey 30 as 15, blue 0,0,255 as 85,15,253).
 */
@RequiresLibvips
class HostileColourTest {

  /** Largest difference on a flat colour: encoders round, nothing else may move it. */
  private static final double TOLERANCE = 2;

  private final VipsEngine engine = VipsEngine.create(Limits.defaults());

  @ParameterizedTest(name = "{0},{1},{2} to {3}")
  @CsvSource({
      "30, 30, 30, png", "0, 0, 255, png", "255, 0, 0, png", "200, 120, 40, png",
      "30, 30, 30, jpeg", "0, 0, 255, jpeg", "30, 30, 30, webp"})
  void untaggedFlatColourPassesThroughUnchanged(int r, int g, int b, String format) {
    TransformResult out = engine.transform(Pictures.flatPng(64, 64, r, g, b, null),
        EngineContract.spec("w=16&format=" + format), null);
    assertThat(meanRgb(out)).as("%s of %d,%d,%d", format, r, g, b)
        .containsExactly(new double[] {r, g, b}, org.assertj.core.data.Offset.offset(TOLERANCE));
  }

  @Test
  void untaggedColourKeepsItsValuesOnTheCropPathToo() {
    TransformResult out = engine.transform(Pictures.flatPng(64, 64, 30, 30, 30, null),
        EngineContract.spec("crop=8,8,32,32&w=16&format=png"), null);
    assertThat(meanRgb(out)).containsExactly(new double[] {30, 30, 30},
        org.assertj.core.data.Offset.offset(TOLERANCE));
  }

  @Test
  void taggedPictureIsStillConvertedToSrgb() {
    // Linear-light grey 128 (0.502) is 188 in sRGB; a linear profile that were ignored would
    // leave it at 128.
    byte[] linear = ICC_Profile.getInstance(ColorSpace.CS_LINEAR_RGB).getData();
    TransformResult out = engine.transform(Pictures.flatPng(64, 64, 128, 128, 128, linear),
        EngineContract.spec("w=16&format=png"), null);
    assertThat(meanRgb(out)).containsExactly(new double[] {188, 188, 188},
        org.assertj.core.data.Offset.offset(3.0));
  }

  private static double[] meanRgb(TransformResult out) {
    if (out.format() == ImageFormat.WEBP) {
      // ImageIO has no WebP reader: read it back through libvips as PNG.
      VipsEngine vips = VipsEngine.create(Limits.defaults());
      out = vips.transform(out.data(), EngineContract.spec("format=png&strip=1&w=" + out.width()), null);
    }
    BufferedImage image = Pictures.decode(out);
    return Pictures.meanRgb(image, 0, 0, image.getWidth(), image.getHeight());
  }
}
