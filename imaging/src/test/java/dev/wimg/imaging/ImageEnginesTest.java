package dev.wimg.imaging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.testsupport.RequiresLibvips;
import org.junit.jupiter.api.Test;

class ImageEnginesTest {

  @Test
  @RequiresLibvips
  void detectPicksLibvipsWhenItLoads() {
    ImageEngine engine = ImageEngines.detect(Limits.defaults());
    assertThat(engine.name()).startsWith("libvips ");
    assertThat(engine.outputFormats()).contains("webp", "avif");
  }

  @Test
  @RequiresLibvips
  void detectedEngineReadsBmpThroughTheJavaEngine() {
    ImageEngine engine = ImageEngines.detect(Limits.defaults());
    TransformResult result = engine.transform(Pictures.bmp("painting.jpg"), EngineContract.spec("w=100"), null);
    assertThat(result.format()).isEqualTo(ImageFormat.JPEG);
    assertThat(result.width() + "x" + result.height()).isEqualTo("100x67");
    assertThat(engine.probe(Pictures.bmp("painting.jpg")))
        .isEqualTo(new ImageInfo(ImageFormat.BMP, 640, 427, 1, false, 1));
    assertThat(engine.transform(Pictures.heap("butterflies.webp"), EngineContract.spec("w=10"), null)
        .format()).isEqualTo(ImageFormat.WEBP);
  }

  @Test
  void detectFallsBackToJavaAndSaysHowToGetLibvipsWhenItCannotLoad() throws Exception {
    Process child = new ProcessBuilder(
        java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED",
        "-Dwimg.libvips=libvips-absent-for-this-test.so.42",
        "-cp", System.getProperty("java.class.path"), DetectEngineMain.class.getName())
        .redirectErrorStream(true).start();
    String output = new String(child.getInputStream().readAllBytes());
    assertThat(child.waitFor()).as(output).isZero();
    assertThat(output)
        .contains("engine=java ")
        .contains("output=JPEG 64x43")
        .contains("libvips-absent-for-this-test.so.42 cannot be used")
        .contains("apt-get install libvips42");
  }

  @Test
  void javaEngineIsAlwaysAvailable() {
    ImageEngine engine = ImageEngines.java(Limits.defaults());
    assertThat(engine.name()).startsWith("java ");
    assertThat(engine.transform(Pictures.heap("painting.jpg"), EngineContract.spec("w=10"), null).width())
        .isEqualTo(10);
  }
}
