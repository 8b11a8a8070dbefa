package dev.wimg.imaging;

import static dev.wimg.imaging.Pictures.decode;
import static dev.wimg.imaging.Pictures.meanRgb;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Golden-shape tests every engine must pass on the formats every engine handles: JPEG, PNG and
 * GIF in, JPEG and PNG out. Each engine's test class extends this one, which is the parity check
 * between libvips and the Java fallback.
 */
abstract class EngineContract {

  /** Largest difference of a mean colour channel (0..255) between two renderings of one area. */
  static final double COLOUR_TOLERANCE = 8;

  abstract ImageEngine engine();

  TransformResult transform(String picture, String query) {
    return transform(Pictures.heap(picture), query, null);
  }

  TransformResult transform(ByteBuffer source, String query, String accept) {
    return engine().transform(source, spec(query), accept);
  }

  static TransformSpec spec(String query) {
    return TransformSpec.parse(TransformSpecTest.query(query), Presets.none(), Limits.defaults());
  }

  AbstractThrowableAssert<?, ? extends Throwable> refuses(ByteBuffer source, String query,
                                                          int status) {
    return assertThatThrownBy(() -> transform(source, query, null))
        .isInstanceOfSatisfying(ImageRequestException.class,
            e -> assertThat(e.status()).as("status of: " + e.getMessage()).isEqualTo(status));
  }

  static void assertSize(TransformResult result, int width, int height) {
    assertThat(result.width() + "x" + result.height()).isEqualTo(width + "x" + height);
    BufferedImage decoded = decode(result);
    assertThat(decoded.getWidth() + "x" + decoded.getHeight()).isEqualTo(width + "x" + height);
  }

  static void assertSameColour(double[] actual, double[] expected) {
    for (int c = 0; c < 3; c++) {
      assertThat(actual[c]).as("channel " + "RGB".charAt(c) + " of " + java.util.Arrays.toString(actual)
          + " vs " + java.util.Arrays.toString(expected)).isCloseTo(expected[c], within(COLOUR_TOLERANCE));
    }
  }

  // ---- sizes for every mode ----

  @ParameterizedTest(name = "{0} gives {1}x{2}")
  @CsvSource(delimiter = '|', textBlock = """
      w=300                              | 300 | 200
      h=100                              | 150 | 100
      w=300&h=100                        | 150 | 100
      w=100&h=300                        | 100 | 67
      w=2000                             | 640 | 427
      w=2000&h=2000                      | 640 | 427
      ''                                 | 640 | 427
      w=200&h=200&mode=fill              | 200 | 200
      w=1000&h=50&mode=fill              | 1000 | 50
      w=900&h=900&mode=fill              | 900 | 900
      w=100&h=300&mode=stretch           | 100 | 300
      w=1000&h=10&mode=stretch           | 1000 | 10
      w=200&h=200&mode=pad               | 200 | 200
      w=1000&h=1000&mode=pad             | 1000 | 1000
      rotate=90&w=100                    | 100 | 150
      rotate=270&w=200&h=100&mode=fill   | 200 | 100
      rotate=180&w=300                   | 300 | 200
      crop=10,20,100,50                  | 100 | 50
      crop=10,20,100,50&w=50             | 50  | 25
      crop=0,0,640,427&w=320             | 320 | 214
      crop=0,0,640,427&w=80              | 80  | 53
      crop=1,1,637,421&w=79              | 79  | 52
      crop=3,5,630,400&h=50&w=50&mode=pad | 50 | 50
      crop=3,5,630,400&h=50&w=40&mode=fill | 40 | 50
      crop=3,5,630,400&h=50&w=40&mode=stretch | 40 | 50
      crop=0,0,640,427&rotate=90&w=50    | 50  | 75
      crop=0,0,640,427&rotate=270&w=50&h=50&mode=pad | 50 | 50
      """)
  void outputSizeFollowsTheMode(String query, int width, int height) {
    TransformResult result = transform("painting.jpg", query);
    assertThat(result.format()).isEqualTo(ImageFormat.JPEG);
    assertSize(result, width, height);
  }

  @ParameterizedTest(name = "gravity={0}")
  @ValueSource(strings = {"center", "north", "south", "east", "west"})
  void fillGivesExactlyTheBoxForEveryGravity(String gravity) {
    assertSize(transform("painting.jpg", "w=120&h=120&mode=fill&gravity=" + gravity), 120, 120);
    assertSize(transform("painting.jpg", "w=30&h=120&mode=fill&gravity=" + gravity), 30, 120);
  }

  @Test
  void fillKeepsTheSideNamedByGravityAcrossAWidePicture() {
    // painting.jpg shown at height 100 is 150x100; a 100x100 fill keeps 100 of those 150 columns.
    BufferedImage reference = decode(transform("painting.jpg", "h=100"));
    assertThat(reference.getWidth()).isEqualTo(150);
    assertSameColour(meanRgb(decode(transform("painting.jpg", "w=100&h=100&mode=fill&gravity=west")), 0, 0, 100, 100),
        meanRgb(reference, 0, 0, 100, 100));
    assertSameColour(meanRgb(decode(transform("painting.jpg", "w=100&h=100&mode=fill&gravity=east")), 0, 0, 100, 100),
        meanRgb(reference, 50, 0, 100, 100));
    assertSameColour(meanRgb(decode(transform("painting.jpg", "w=100&h=100&mode=fill")), 0, 0, 100, 100),
        meanRgb(reference, 25, 0, 100, 100));
    // Across the overflowing axis there is nothing to choose: north is the centre.
    assertSameColour(meanRgb(decode(transform("painting.jpg", "w=100&h=100&mode=fill&gravity=north")), 0, 0, 100, 100),
        meanRgb(reference, 25, 0, 100, 100));
  }

  @Test
  void fillKeepsTheSideNamedByGravityAcrossATallPicture() {
    // The left 200x427 of the painting, shown 100 wide, is 100x214 (213.5 rounded either way).
    BufferedImage reference = decode(transform("painting.jpg", "crop=0,0,200,427&w=100"));
    int h = reference.getHeight();
    assertThat(h).isBetween(213, 214);
    assertSameColour(meanRgb(decode(transform("painting.jpg", "crop=0,0,200,427&w=100&h=100&mode=fill&gravity=north")), 0, 0, 100, 100),
        meanRgb(reference, 0, 0, 100, 100));
    assertSameColour(meanRgb(decode(transform("painting.jpg", "crop=0,0,200,427&w=100&h=100&mode=fill&gravity=south")), 0, 0, 100, 100),
        meanRgb(reference, 0, h - 100, 100, 100));
  }

  @Test
  void gravityNamesTheSideOfTheFinalOutputWhenRotated() {
    // Turned clockwise, the painting shown 100 wide is 100x150; its top is the original's left
    // side, its bottom the original's right side.
    BufferedImage reference = decode(transform("painting.jpg", "rotate=90&w=100"));
    assertThat(reference.getWidth() + "x" + reference.getHeight()).isEqualTo("100x150");
    BufferedImage north = decode(transform("painting.jpg", "rotate=90&w=100&h=100&mode=fill&gravity=north"));
    BufferedImage south = decode(transform("painting.jpg", "rotate=90&w=100&h=100&mode=fill&gravity=south"));
    assertSameColour(meanRgb(north, 0, 0, 100, 100), meanRgb(reference, 0, 0, 100, 100));
    assertSameColour(meanRgb(south, 0, 0, 100, 100), meanRgb(reference, 0, 50, 100, 100));
    BufferedImage flippedEast = decode(transform("painting.jpg", "flip&w=100&h=100&mode=fill&gravity=east"));
    BufferedImage flippedReference = decode(transform("painting.jpg", "flip&h=100"));
    assertSameColour(meanRgb(flippedEast, 0, 0, 100, 100), meanRgb(flippedReference, 50, 0, 100, 100));
  }

  @Test
  void padFillsTheRestOfTheBoxWithTheBackground() {
    BufferedImage padded = decode(transform("painting.jpg", "w=200&h=200&mode=pad&bg=ff0000"));
    // 200x133 picture, centred: 33 red rows above and 34 below.
    assertSameColour(meanRgb(padded, 0, 0, 200, 30), new double[] {255, 0, 0});
    assertSameColour(meanRgb(padded, 0, 170, 200, 30), new double[] {255, 0, 0});
    BufferedImage fit = decode(transform("painting.jpg", "w=200"));
    assertSameColour(meanRgb(padded, 0, 40, 200, 120), meanRgb(fit, 0, 7, 200, 120));
  }

  @Test
  void padPlacesThePictureByGravity() {
    BufferedImage north = decode(transform("painting.jpg", "w=200&h=200&mode=pad&bg=00ff00&gravity=north"));
    assertSameColour(meanRgb(north, 0, 140, 200, 60), new double[] {0, 255, 0});
    BufferedImage fit = decode(transform("painting.jpg", "w=200"));
    assertSameColour(meanRgb(north, 0, 0, 200, 130), meanRgb(fit, 0, 0, 200, 130));
  }

  // ---- orientation, crop, rotation, mirrors ----

  @Test
  void exifOrientationIsApplied() {
    ImageInfo info = engine().probe(Pictures.heap("painting-exif6.jpg"));
    assertThat(info).isEqualTo(new ImageInfo(ImageFormat.JPEG, 427, 640, 1, false, 6));
    assertThat(info.displayWidth() + "x" + info.displayHeight()).isEqualTo("640x427");

    BufferedImage upright = decode(transform("painting.jpg", "w=300"));
    BufferedImage rotated = decode(transform("painting-exif6.jpg", "w=300"));
    assertThat(rotated.getWidth() + "x" + rotated.getHeight()).isEqualTo("300x200");
    for (int[] q : new int[][] {{0, 0}, {150, 0}, {0, 100}, {150, 100}}) {
      assertSameColour(meanRgb(rotated, q[0], q[1], 150, 100), meanRgb(upright, q[0], q[1], 150, 100));
    }
  }

  @Test
  void orientationIsAppliedWithoutResizing() {
    BufferedImage rotated = decode(transform("painting-exif6.jpg", "q=90"));
    assertThat(rotated.getWidth() + "x" + rotated.getHeight()).isEqualTo("640x427");
  }

  @ParameterizedTest
  @ValueSource(strings = {"crop=400,0,200,150", "crop=0,300,120,100&w=60", "crop=100,100,300,200&w=150&h=150&mode=fill"})
  void cropIsInShownCoordinatesOnExifRotatedSources(String query) {
    BufferedImage upright = decode(transform("painting.jpg", query));
    BufferedImage rotated = decode(transform("painting-exif6.jpg", query));
    assertThat(rotated.getWidth() + "x" + rotated.getHeight())
        .isEqualTo(upright.getWidth() + "x" + upright.getHeight());
    int w = upright.getWidth();
    int h = upright.getHeight();
    assertSameColour(meanRgb(rotated, 0, 0, w / 2, h / 2), meanRgb(upright, 0, 0, w / 2, h / 2));
    assertSameColour(meanRgb(rotated, w / 2, h / 2, w / 2, h / 2), meanRgb(upright, w / 2, h / 2, w / 2, h / 2));
  }

  @Test
  void cropKeepsThatAreaOfTheSource() {
    BufferedImage full = decode(transform("painting.jpg", "q=95"));
    BufferedImage cropped = decode(transform("painting.jpg", "crop=500,10,120,80&q=95"));
    assertSameColour(meanRgb(cropped, 0, 0, 120, 80), meanRgb(full, 500, 10, 120, 80));
  }

  @Test
  void cropShrunkOnLoadKeepsThatAreaOfTheSource() {
    BufferedImage full = decode(transform("painting.jpg", "q=95"));
    BufferedImage small = decode(transform("painting.jpg", "crop=400,10,200,160&w=25&q=95"));
    assertThat(small.getWidth() + "x" + small.getHeight()).isEqualTo("25x20");
    assertSameColour(meanRgb(small, 0, 0, 25, 20), meanRgb(full, 400, 10, 200, 160));
    BufferedImage rotated = decode(transform("painting-exif6.jpg", "crop=400,10,200,160&w=25&q=95"));
    assertSameColour(meanRgb(rotated, 0, 0, 25, 20), meanRgb(full, 400, 10, 200, 160));
  }

  @Test
  void cropOutsideThePictureIsABadRequest() {
    refuses(Pictures.heap("painting.jpg"), "crop=600,0,100,100", 400)
        .hasMessage("crop 600,0,100,100 is outside the 640x427 picture");
    refuses(Pictures.heap("painting-exif6.jpg"), "crop=0,0,427,640", 400)
        .hasMessage("crop 0,0,427,640 is outside the 640x427 picture");
  }

  @Test
  void rotateTurnsClockwise() {
    BufferedImage original = decode(transform("painting.jpg", "w=300"));
    BufferedImage turned = decode(transform("painting.jpg", "w=200&rotate=90"));
    assertThat(turned.getWidth() + "x" + turned.getHeight()).isEqualTo("200x300");
    // Clockwise: the original's bottom-left corner (dark grey) comes to the top-left.
    assertSameColour(meanRgb(turned, 0, 0, 30, 30), meanRgb(original, 0, 170, 30, 30));
    BufferedImage upsideDown = decode(transform("painting.jpg", "w=300&rotate=180"));
    assertSameColour(meanRgb(upsideDown, 0, 0, 30, 30), meanRgb(original, 270, 170, 30, 30));
  }

  @Test
  void flipMirrorsTopToBottomAndFlopLeftToRight() {
    BufferedImage original = decode(transform("painting.jpg", "w=300"));
    BufferedImage flipped = decode(transform("painting.jpg", "w=300&flip"));
    BufferedImage flopped = decode(transform("painting.jpg", "w=300&flop"));
    assertSameColour(meanRgb(flipped, 0, 0, 40, 40), meanRgb(original, 0, 160, 40, 40));
    assertSameColour(meanRgb(flopped, 0, 0, 40, 40), meanRgb(original, 260, 0, 40, 40));
  }

  // ---- colour ----

  @Test
  void grayIsReallyGray() {
    for (String picture : new String[] {"painting.jpg", "butterflies.png"}) {
      BufferedImage gray = decode(transform(picture, "gray&w=120"));
      for (int y = 0; y < gray.getHeight(); y++) {
        for (int x = 0; x < gray.getWidth(); x++) {
          int p = gray.getRGB(x, y);
          int r = (p >>> 16) & 0xFF;
          int g = (p >>> 8) & 0xFF;
          int b = p & 0xFF;
          assertThat(r == g && g == b).as(picture + " pixel " + x + "," + y + " = " + r + "," + g + "," + b).isTrue();
        }
      }
    }
  }

  @Test
  void cmykJpegIsConvertedToSrgb() {
    TransformResult result = transform("painting-cmyk.jpg", "w=300");
    assertThat(Pictures.jpegFrame(result.bytes())[1]).as("JPEG components").isEqualTo(3);
    BufferedImage converted = decode(result);
    BufferedImage reference = decode(transform("painting.jpg", "w=300"));
    for (int[] q : new int[][] {{0, 0}, {150, 0}, {0, 100}, {150, 100}}) {
      double[] a = meanRgb(converted, q[0], q[1], 150, 100);
      double[] b = meanRgb(reference, q[0], q[1], 150, 100);
      for (int c = 0; c < 3; c++) {
        // The file has no profile, so each engine assumes its own default CMYK profile: colours
        // move by a few tens of levels. Inverted or unconverted CMYK would be off by a hundred.
        assertThat(a[c]).isCloseTo(b[c], within(40.0));
      }
    }
  }

  @Test
  void sixteenBitPngBecomesEightBitWithAlphaKept() {
    TransformResult result = transform("butterflies-16bit.png", "w=100");
    assertThat(result.format()).isEqualTo(ImageFormat.PNG);
    assertThat(Pictures.pngHeader(result.bytes())).containsExactly(8, 6);
    assertSize(result, 100, 94);
    assertThat(decode(result).getRGB(0, 0) >>> 24).as("corner alpha").isZero();
  }

  @Test
  void palettePngKeepsItsTransparency() {
    TransformResult result = transform("butterflies-palette.png", "w=139");
    assertThat(result.format()).isEqualTo(ImageFormat.PNG);
    BufferedImage image = decode(result);
    assertThat(image.getColorModel().hasAlpha()).isTrue();
    assertThat(image.getRGB(0, 0) >>> 24).as("corner alpha").isZero();
    assertThat(image.getRGB(image.getWidth() / 4, image.getHeight() / 4) >>> 24).as("butterfly alpha").isGreaterThan(200);
  }

  @Test
  void gifBecomesPngWithTransparency() {
    TransformResult result = transform("butterflies.gif", "w=139");
    assertThat(result.format()).isEqualTo(ImageFormat.PNG);
    assertSize(result, 139, 132);
    assertThat(decode(result).getRGB(0, 0) >>> 24).as("corner alpha").isZero();
  }

  @Test
  void alphaIsKeptInPngAndFlattenedOntoTheBackgroundInJpeg() {
    TransformResult png = transform("butterflies.png", "w=139");
    assertThat(png.format()).isEqualTo(ImageFormat.PNG);
    assertThat(Pictures.pngHeader(png.bytes())[1]).as("colour type RGBA").isEqualTo(6);
    assertThat(decode(png).getRGB(0, 0) >>> 24).isZero();

    BufferedImage white = decode(transform("butterflies.png", "w=139&format=jpeg"));
    assertSameColour(meanRgb(white, 0, 0, 5, 5), new double[] {255, 255, 255});
    // q=95: no chroma subsampling, so the saturated corner keeps its colour.
    BufferedImage blue = decode(transform("butterflies.png", "w=139&format=jpeg&bg=0000ff&q=95"));
    assertSameColour(meanRgb(blue, 0, 0, 5, 5), new double[] {0, 0, 255});
  }

  @Test
  void transparentPadBackgroundGivesTransparentPngPadding() {
    BufferedImage padded = decode(transform("painting.jpg", "w=200&h=200&mode=pad&bg=00000000&format=png"));
    assertThat(padded.getRGB(100, 5) >>> 24).as("padding alpha").isZero();
    assertThat(padded.getRGB(100, 100) >>> 24).as("picture alpha").isEqualTo(255);
  }

  @Test
  void blurSoftensEdges() {
    BufferedImage sharp = decode(transform("painting.jpg", "w=300"));
    BufferedImage blurred = decode(transform("painting.jpg", "w=300&blur=4"));
    assertThat(blurred.getWidth() + "x" + blurred.getHeight()).isEqualTo("300x200");
    assertThat(edgeEnergy(blurred)).isLessThan(edgeEnergy(sharp) / 2);
    assertSameColour(meanRgb(blurred, 100, 60, 100, 80), meanRgb(sharp, 100, 60, 100, 80));
  }

  /** Sum of squared differences of horizontal neighbours (green): blurring spreads steps thin. */
  private static long edgeEnergy(BufferedImage image) {
    long sum = 0;
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 1; x < image.getWidth(); x++) {
        int d = ((image.getRGB(x, y) >>> 8) & 0xFF) - ((image.getRGB(x - 1, y) >>> 8) & 0xFF);
        sum += (long) d * d;
      }
    }
    return sum;
  }

  // ---- encoding ----

  @Test
  void outputFormatsHaveTheirMagicBytes() {
    byte[] jpeg = transform("butterflies.png", "w=50&format=jpeg").bytes();
    assertThat(jpeg).startsWith(0xFF, 0xD8, 0xFF);
    assertThat(transform("butterflies.png", "w=50&format=jpeg").mime()).isEqualTo("image/jpeg");
    byte[] png = transform("painting.jpg", "w=50&format=png").bytes();
    assertThat(png).startsWith(0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n');
    assertThat(ImageFormat.sniff(ByteBuffer.wrap(png))).contains(ImageFormat.PNG);
  }

  @Test
  void progressiveAsksForAProgressiveJpeg() {
    assertThat(Pictures.jpegFrame(transform("painting.jpg", "w=200").bytes())[0]).isEqualTo(0xC0);
    assertThat(Pictures.jpegFrame(transform("painting.jpg", "w=200&progressive").bytes())[0]).isEqualTo(0xC2);
  }

  @Test
  void progressiveJpegIsRead() {
    assertSize(transform("painting-progressive.jpg", "w=300"), 300, 200);
  }

  @Test
  void lowerQualityGivesSmallerJpeg() {
    int small = transform("painting.jpg", "w=300&q=10").data().remaining();
    int large = transform("painting.jpg", "w=300&q=95").data().remaining();
    assertThat(small).isLessThan(large / 2);
  }

  @Test
  void autoFormatWithoutWebpOrAvifInAcceptKeepsTheSourceFormat() {
    assertThat(transform(Pictures.heap("painting.jpg"), "w=50&format=auto", "text/html,image/*;q=0.8,*/*;q=0.5")
        .format()).isEqualTo(ImageFormat.JPEG);
    assertThat(transform(Pictures.heap("butterflies.png"), "w=50&format=auto", null).format())
        .isEqualTo(ImageFormat.PNG);
  }

  @Test
  void directAndHeapSourcesGiveTheSameOutputAndAreNotConsumed() {
    ByteBuffer heap = Pictures.heap("painting.jpg");
    ByteBuffer direct = Pictures.direct("painting.jpg");
    TransformResult a = transform(heap, "w=100", null);
    TransformResult b = transform(direct, "w=100", null);
    assertThat(a.bytes()).isEqualTo(b.bytes());
    assertThat(heap.position()).isZero();
    assertThat(direct.position()).isZero();
  }

  @Test
  void sourceSliceFromItsPositionIsUsed() {
    byte[] picture = Pictures.bytes("painting.jpg");
    ByteBuffer withPrefix = ByteBuffer.allocate(picture.length + 7);
    withPrefix.put(new byte[7]).put(picture).position(7);
    assertSize(transform(withPrefix, "w=100", null), 100, 67);
  }

  // ---- errors ----

  @Test
  void nonPictureIsUnsupportedMediaType() {
    refuses(ByteBuffer.wrap("%PDF-1.7 not a picture".getBytes()), "w=10", 415)
        .hasMessage("source is not a picture (starts with 25 50 44 46 2d 31 2e 37)");
    refuses(ByteBuffer.allocate(0), "w=10", 415).hasMessage("source is not a picture (0 bytes)");
    assertThatThrownBy(() -> engine().probe(ByteBuffer.wrap(new byte[] {1, 2, 3})))
        .isInstanceOfSatisfying(ImageRequestException.class, e -> assertThat(e.status()).isEqualTo(415))
        .hasMessage("source is not a picture (starts with 01 02 03)");
  }

  @Test
  void truncatedJpegIsUnprocessable() {
    refuses(Pictures.truncated("painting.jpg", 0.5), "w=100", 422)
        .hasMessageStartingWith("source cannot be decoded: ");
    refuses(Pictures.truncated("painting.jpg", 0.002), "w=100", 422)
        .hasMessageStartingWith("source cannot be decoded: ");
  }

  @Test
  void truncatedPngIsUnprocessable() {
    refuses(Pictures.truncated("butterflies.png", 0.5), "w=100", 422)
        .hasMessageStartingWith("source cannot be decoded: ");
  }

  @Test
  void pngBombIsRefusedFromItsHeaderWithoutAllocatingIt() {
    ByteBuffer bomb = Pictures.pngBomb(40_000, 40_000);
    assertThat(bomb.remaining()).as("bomb size in bytes").isLessThan(300_000);
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    refuses(bomb, "w=100", 422).hasMessage(
        "source is 40000x40000 = 1600000000 pixels, over the limit of 50000000 pixels");
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    assertThat(allocated).as("bytes allocated on the Java heap").isLessThan(16L << 20);
    assertThat(engine().probe(bomb)).isEqualTo(new ImageInfo(ImageFormat.PNG, 40_000, 40_000, 1, false, 1));
  }

  @Test
  void configuredPixelLimitIsEnforced() {
    ImageEngine small = engineWith(Limits.defaults().withMaxSourcePixels(100_000));
    assertThatThrownBy(() -> small.transform(Pictures.heap("painting.jpg"), spec("w=10"), null))
        .isInstanceOfSatisfying(ImageRequestException.class, e -> assertThat(e.status()).isEqualTo(422))
        .hasMessage("source is 640x427 = 273280 pixels, over the limit of 100000 pixels");
  }

  abstract ImageEngine engineWith(Limits limits);

  @Test
  void probeReadsTheHeader() {
    assertThat(engine().probe(Pictures.heap("painting.jpg")))
        .isEqualTo(new ImageInfo(ImageFormat.JPEG, 640, 427, 1, false, 1));
    assertThat(engine().probe(Pictures.heap("butterflies.png")))
        .isEqualTo(new ImageInfo(ImageFormat.PNG, 278, 263, 1, true, 1));
    assertThat(engine().probe(Pictures.heap("butterflies-16bit.png")))
        .isEqualTo(new ImageInfo(ImageFormat.PNG, 140, 132, 1, true, 1));
    assertThat(engine().probe(Pictures.heap("painting-cmyk.jpg")))
        .isEqualTo(new ImageInfo(ImageFormat.JPEG, 640, 427, 1, false, 1));
  }

  @Test
  void describesItself() {
    assertThat(engine().name()).isNotBlank();
    assertThat(engine().outputFormats()).contains("jpeg", "png");
  }
}
