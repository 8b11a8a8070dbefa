package dev.wimg.imaging.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.imaging.ImageRequestException;
import dev.wimg.imaging.Limits;
import dev.wimg.imaging.Presets;
import dev.wimg.imaging.TransformSpec;
import dev.wimg.imaging.TransformSpec.Crop;
import dev.wimg.imaging.TransformSpec.Gravity;
import java.awt.image.BufferedImage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OrientationTest {

  /**
   * For every orientation and every crop of a small picture whose pixels hold their own stored
   * coordinates: turning the stored picture upright (Turns.upright, which follows the table in
   * Orientation's Javadoc) and cutting the crop gives exactly the pixels of the stored rectangle.
   */
  @Property(tries = 500)
  void storedRectHoldsExactlyTheCroppedPixels(@ForAll @IntRange(min = 1, max = 8) int orientation,
                                              @ForAll @IntRange(min = 1, max = 7) int storedW,
                                              @ForAll @IntRange(min = 1, max = 6) int storedH,
                                              @ForAll @IntRange(min = 0, max = 100) int a,
                                              @ForAll @IntRange(min = 0, max = 100) int b,
                                              @ForAll @IntRange(min = 0, max = 100) int c,
                                              @ForAll @IntRange(min = 0, max = 100) int d) {
    BufferedImage stored = new BufferedImage(storedW, storedH, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < storedH; y++) {
      for (int x = 0; x < storedW; x++) {
        stored.setRGB(x, y, x << 8 | y);
      }
    }
    BufferedImage shown = Turns.upright(stored, orientation);
    int shownW = shown.getWidth();
    int shownH = shown.getHeight();
    assertThat(shownW).isEqualTo(orientation >= 5 ? storedH : storedW);
    int x = a % shownW;
    int y = b % shownH;
    Crop crop = new Crop(x, y, 1 + c % (shownW - x), 1 + d % (shownH - y));
    int[] r = Orientation.storedRect(crop, storedW, storedH, orientation);
    assertThat(r[2] * r[3]).isEqualTo(crop.width() * crop.height());
    for (int dy = crop.y(); dy < crop.y() + crop.height(); dy++) {
      for (int dx = crop.x(); dx < crop.x() + crop.width(); dx++) {
        int p = shown.getRGB(dx, dy) & 0xFFFFFF;
        int sx = p >> 8;
        int sy = p & 0xFF;
        assertThat(sx).isBetween(r[0], r[0] + r[2] - 1);
        assertThat(sy).isBetween(r[1], r[1] + r[3] - 1);
      }
    }
  }

  @ParameterizedTest(name = "{0}: output {1} is {2} before the turn")
  @CsvSource(delimiter = '|', textBlock = """
      rotate=90                   | north | WEST
      rotate=90                   | east  | NORTH
      rotate=90                   | south | EAST
      rotate=90                   | west  | SOUTH
      rotate=180                  | north | SOUTH
      rotate=270                  | north | EAST
      flip=1                      | north | SOUTH
      flip=1                      | east  | EAST
      flop=1                      | east  | WEST
      rotate=90&flop=1            | east  | SOUTH
      ''                          | north | NORTH
      """)
  void gravityIsMappedThroughRotationAndMirrors(String ops, String gravity, Gravity expected) {
    Map<String, List<String>> q = new LinkedHashMap<>();
    if (!ops.isEmpty()) {
      for (String pair : ops.split("&")) {
        String[] kv = pair.split("=");
        q.put(kv[0], List.of(kv[1]));
      }
    }
    q.put("w", List.of("10"));
    q.put("h", List.of("10"));
    q.put("mode", List.of("fill"));
    q.put("gravity", List.of(gravity));
    TransformSpec spec = TransformSpec.parse(q, Presets.none(), Limits.defaults());
    assertThat(Orientation.beforeRotation(spec)).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      0,0,10,10   | 10 | 10 |
      5,5,5,5     | 10 | 10 |
      5,5,6,5     | 10 | 10 | crop 5,5,6,5 is outside the 10x10 picture
      0,0,1,11    | 10 | 10 | crop 0,0,1,11 is outside the 10x10 picture
      """)
  void cropMustLieInsideThePicture(String crop, int w, int h, String message) {
    String[] p = crop.split(",");
    Crop c = new Crop(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]),
        Integer.parseInt(p[3]));
    if (message == null) {
      Orientation.checkInside(c, w, h);
    } else {
      assertThatThrownBy(() -> Orientation.checkInside(c, w, h))
          .isInstanceOf(ImageRequestException.class).hasMessage(message);
    }
  }
}
