package dev.wimg.imaging.internal;

import dev.wimg.imaging.AcceptHeader;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.imaging.ImageFormat;
import dev.wimg.imaging.TransformSpec.OutputFormat;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OutputFormatChoiceTest {

  private static final Set<ImageFormat> ALL = Set.of(ImageFormat.JPEG, ImageFormat.PNG,
      ImageFormat.WEBP, ImageFormat.AVIF);

  @ParameterizedTest(name = "{0} from {1} (alpha {2}) is {3}")
  @CsvSource(delimiter = '|', textBlock = """
      SOURCE | JPEG | false | JPEG
      SOURCE | PNG  | true  | PNG
      SOURCE | WEBP | true  | WEBP
      SOURCE | AVIF | false | AVIF
      SOURCE | GIF  | false | PNG
      SOURCE | BMP  | false | JPEG
      SOURCE | TIFF | true  | PNG
      SOURCE | HEIF | false | JPEG
      PNG    | JPEG | false | PNG
      JPEG   | PNG  | true  | JPEG
      """)
  void sourceFormatIsKeptWhenWritable(OutputFormat requested, ImageFormat source, boolean alpha,
                                      ImageFormat expected) {
    assertThat(OutputFormatChoice.choose(requested, source, alpha, null, ALL, "test")).isEqualTo(expected);
  }

  @ParameterizedTest(name = "Accept: {0} -> webp {1}, avif {2}")
  @CsvSource(delimiter = '|', textBlock = """
      image/webp                         | true  | false
      image/webp;q=0                     | false | false
      image/webp; q=0.001                | true  | false
      image/webp;q=1.0                   | true  | false
      image/webp;q=2                     | false | false
      image/webp;q=abc                   | false | false
      ' image/avif , image/webp;q=0.5 '  | true  | true
      text/html,*/*                      | false | false
      image/*                            | false | false
      image/webpx                        | false | false
      """)
  void acceptListsTheTypeExplicitlyWithNonZeroQuality(String accept, boolean webp, boolean avif) {
    assertThat(AcceptHeader.listsExplicitly(accept, "image/webp")).isEqualTo(webp);
    assertThat(AcceptHeader.listsExplicitly(accept, "image/avif")).isEqualTo(avif);
  }
}
