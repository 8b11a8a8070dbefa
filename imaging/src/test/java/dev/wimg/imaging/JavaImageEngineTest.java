package dev.wimg.imaging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.imaging.internal.JavaImageEngine;
import org.junit.jupiter.api.Test;

class JavaImageEngineTest extends EngineContract {

  private final JavaImageEngine engine = new JavaImageEngine(Limits.defaults());

  @Override
  ImageEngine engine() {
    return engine;
  }

  @Override
  ImageEngine engineWith(Limits limits) {
    return new JavaImageEngine(limits);
  }

  @Test
  void webpAndAvifOutputAreNotImplemented() {
    refuses(Pictures.heap("painting.jpg"), "w=10&format=webp", 501)
        .hasMessage("the java engine cannot write webp; it writes jpeg, png");
    refuses(Pictures.heap("painting.jpg"), "w=10&format=avif", 501)
        .hasMessage("the java engine cannot write avif; it writes jpeg, png");
  }

  @Test
  void autoFormatNeverPicksWhatItCannotWrite() {
    assertThat(transform(Pictures.heap("painting.jpg"), "w=50&format=auto", "image/avif,image/webp,*/*")
        .format()).isEqualTo(ImageFormat.JPEG);
  }

  @Test
  void webpAndAvifInputAreNotImplemented() {
    refuses(Pictures.heap("butterflies.webp"), "w=10", 501)
        .hasMessage("the java engine cannot read webp pictures; they need libvips");
    refuses(Pictures.heap("painting.avif"), "w=10", 501)
        .hasMessage("the java engine cannot read avif pictures; they need libvips");
  }

  @Test
  void smartGravityIsNotImplemented() {
    refuses(Pictures.heap("painting.jpg"), "w=10&h=10&mode=fill&gravity=smart", 501)
        .hasMessage("the java engine cannot do gravity=smart; it needs libvips");
  }

  @Test
  void readsBmpAndTiff() {
    TransformResult bmp = transform(Pictures.bmp("painting.jpg"), "w=100", null);
    assertThat(bmp.format()).isEqualTo(ImageFormat.JPEG);
    assertSize(bmp, 100, 67);
    assertSize(transform("painting.tif", "w=100"), 100, 67);
  }

  @Test
  void describesItselfAsTheJavaEngine() {
    assertThat(engine.name()).startsWith("java ");
    assertThat(engine.outputFormats()).containsExactlyInAnyOrder("jpeg", "png");
  }
}
