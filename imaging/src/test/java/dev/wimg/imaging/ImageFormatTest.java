package dev.wimg.imaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ImageFormatTest {

  @ParameterizedTest(name = "{0} is {1}")
  @CsvSource(delimiter = '|', textBlock = """
      painting.jpg            | JPEG
      painting-cmyk.jpg       | JPEG
      painting-progressive.jpg | JPEG
      butterflies.png         | PNG
      butterflies.gif         | GIF
      butterflies.webp        | WEBP
      painting.avif           | AVIF
      painting.tif            | TIFF
      """)
  void sniffsTheFixtures(String name, ImageFormat format) {
    assertThat(ImageFormat.sniff(Pictures.heap(name))).contains(format);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "GIF8", "RIFF0000WAVE", "%PDF-1.7", "BM", "<svg xmlns"})
  void refusesWhatIsNotAKnownPicture(String start) {
    assertThat(ImageFormat.sniff(ByteBuffer.wrap(start.getBytes()))).isEmpty();
  }

  @ParameterizedTest(name = "brand {0} is {1}")
  @CsvSource(delimiter = '|', textBlock = """
      heic | mif1 | HEIF
      avif | mif1 | AVIF
      mif1 | avif | AVIF
      mif1 | heic | HEIF
      """)
  void tellsHeifFromAvifByBrand(String major, String compatible, ImageFormat format) {
    ByteBuffer ftyp = ByteBuffer.allocate(24).putInt(24).put("ftyp".getBytes()).put(major.getBytes())
        .putInt(0).put(compatible.getBytes()).put("miaf".getBytes());
    assertThat(ImageFormat.sniff(ftyp.flip())).contains(format);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3, 7, 12, 17})
  void shortPrefixesNeverThrow(int length) {
    for (String name : new String[] {"painting.jpg", "butterflies.png", "butterflies.webp", "painting.avif"}) {
      byte[] bytes = Pictures.bytes(name);
      ImageFormat.sniff(ByteBuffer.wrap(Arrays.copyOf(bytes, Math.min(length, bytes.length))));
    }
    assertThat(ImageFormat.sniff(Pictures.bmp("painting.jpg"))).contains(ImageFormat.BMP);
  }
}
