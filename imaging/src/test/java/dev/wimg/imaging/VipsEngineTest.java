package dev.wimg.imaging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.imaging.internal.Vips;
import dev.wimg.imaging.internal.VipsEngine;
import dev.wimg.testsupport.RequiresLibvips;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@RequiresLibvips
class VipsEngineTest extends EngineContract {

  private final VipsEngine engine = VipsEngine.create(Limits.defaults());

  @Override
  ImageEngine engine() {
    return engine;
  }

  @Override
  ImageEngine engineWith(Limits limits) {
    return VipsEngine.create(limits);
  }

  @Test
  void writesWebpWithAlpha() {
    TransformResult result = transform("butterflies.png", "w=139&format=webp");
    assertThat(result.format()).isEqualTo(ImageFormat.WEBP);
    assertThat(result.mime()).isEqualTo("image/webp");
    assertThat(ImageFormat.sniff(result.data())).contains(ImageFormat.WEBP);
    assertThat(engine.probe(result.data())).isEqualTo(new ImageInfo(ImageFormat.WEBP, 139, 132, 1, true, 1));
  }

  @Test
  void writesAvif() {
    TransformResult result = transform("painting.jpg", "w=120&format=avif");
    assertThat(result.format()).isEqualTo(ImageFormat.AVIF);
    assertThat(ImageFormat.sniff(result.data())).contains(ImageFormat.AVIF);
    ImageInfo info = engine.probe(result.data());
    assertThat(info.width() + "x" + info.height()).isEqualTo("120x80");
  }

  @ParameterizedTest(name = "{0} w=100 gives {1} {2}x{3}")
  @CsvSource(delimiter = '|', textBlock = """
      butterflies.webp | WEBP | 100 | 95
      painting.avif    | AVIF | 100 | 67
      painting.tif     | JPEG | 100 | 67
      """)
  void readsWebpAvifAndTiff(String picture, ImageFormat format, int width, int height) {
    TransformResult result = transform(picture, "w=100");
    assertThat(result.format()).isEqualTo(format);
    assertThat(result.width() + "x" + result.height()).isEqualTo(width + "x" + height);
  }

  @ParameterizedTest(name = "Accept: {0} gives {1}")
  @CsvSource(delimiter = '|', textBlock = """
      image/avif,image/webp,image/apng,*/*;q=0.8 | WEBP
      image/avif                                 | AVIF
      image/webp;q=0, image/avif;q=0.5           | AVIF
      image/webp;q=0.0                           | JPEG
      IMAGE/WEBP                                 | WEBP
      */*                                        | JPEG
      image/*                                    | JPEG
      """)
  void autoFormatFollowsAccept(String accept, ImageFormat expected) {
    assertThat(transform(Pictures.heap("painting.jpg"), "w=50&format=auto", accept).format())
        .isEqualTo(expected);
  }

  @Test
  void smartGravityKeepsTheInterestingPart() {
    // A grey 600x200 picture with a red square at x=30..70: the centre of a 100-wide fill misses
    // it, libvips' attention crop finds it.
    ByteBuffer source = Pictures.greyWithRedSquare();
    BufferedImage smart = Pictures.decode(transform(source, "w=100&h=200&mode=fill&gravity=smart", null));
    BufferedImage centre = Pictures.decode(transform(source, "w=100&h=200&mode=fill", null));
    assertThat(smart.getWidth() + "x" + smart.getHeight()).isEqualTo("100x200");
    assertThat(redPixels(smart)).isGreaterThan(1000);
    assertThat(redPixels(centre)).isZero();
  }

  private static int redPixels(BufferedImage image) {
    int n = 0;
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        int p = image.getRGB(x, y);
        if (((p >>> 16) & 0xFF) > 170 && ((p >>> 8) & 0xFF) < 90 && (p & 0xFF) < 70) {
          n++;
        }
      }
    }
    return n;
  }

  @Test
  void bmpIsNotReadByLibvips() {
    refuses(Pictures.bmp("painting.jpg"), "w=10", 501)
        .hasMessage("the libvips engine cannot read bmp pictures");
  }

  @Test
  void everyLibvipsObjectIsReleasedAfterTransformsAndFailures() {
    Vips vips = engine.vips();
    vips.leakSet(true); // libvips tracks live objects only while leak checking is on
    transform("painting.jpg", "w=100");
    int objects = vips.liveObjects();
    long memory = vips.trackedMemory();
    ByteBuffer bomb = Pictures.pngBomb(20_000, 20_000);
    ByteBuffer truncated = Pictures.truncated("painting.jpg", 0.5);
    for (int i = 0; i < 10; i++) {
      transform("painting.jpg", "w=300&h=300&mode=pad&gray&blur=1&rotate=90&format=png");
      transform("butterflies.png", "crop=10,10,100,100&w=50&format=webp");
      transform("painting-cmyk.jpg", "w=100&h=100&mode=fill&gravity=east&flip&flop");
      for (ByteBuffer bad : List.of(truncated, bomb)) {
        refuses(bad, "w=100", 422);
      }
      refuses(Pictures.heap("painting.jpg"), "crop=600,0,100,100", 400);
    }
    assertThat(vips.liveObjects()).as("live libvips objects").isEqualTo(objects);
    // Worker threads keep a few pixel buffers for reuse; a leaked image would add ~100 KB a call.
    assertThat(vips.trackedMemory() - memory).as("bytes held by libvips").isLessThan(4L << 20);
  }

  @Test
  void liveObjectCountSeesAnImageUntilItIsUnreferenced() {
    Vips vips = engine.vips();
    vips.leakSet(true);
    try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
      byte[] bytes = Pictures.bytes("painting.jpg");
      java.lang.foreign.MemorySegment data = arena.allocate(bytes.length);
      data.copyFrom(java.lang.foreign.MemorySegment.ofArray(bytes));
      int before = vips.liveObjects();
      java.lang.foreign.MemorySegment image = vips.imageNewFromBuffer(data,
          vips.enums().accessSequential(), vips.enums().failOnTruncated());
      assertThat(vips.liveObjects()).isGreaterThan(before);
      vips.gObjectUnref(image);
      assertThat(vips.liveObjects()).isEqualTo(before);
    }
  }

  @Test
  void concurrentTransformsGiveTheSameBytesAsOneAtATime() throws Exception {
    List<String> queries = List.of("w=100", "w=200&h=100&mode=fill&gravity=east", "gray&w=80",
        "crop=10,10,200,200&w=64&format=png", "w=90&format=webp");
    List<byte[]> expected = new ArrayList<>();
    for (String q : queries) {
      expected.add(transform("painting.jpg", q).bytes());
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int round = 0; round < 5; round++) {
        for (int i = 0; i < queries.size(); i++) {
          int index = i;
          results.add(pool.submit(() -> java.util.Arrays.equals(
              transform("painting.jpg", queries.get(index)).bytes(), expected.get(index))));
        }
      }
      for (Future<Boolean> f : results) {
        assertThat(f.get()).isTrue();
      }
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void stripDropsExifWhileTheOrientationStaysApplied() {
    TransformResult stripped = transform("painting-exif6.jpg", "w=300");
    TransformResult kept = transform("painting-exif6.jpg", "w=300&strip=0");
    assertThat(new String(stripped.bytes(), java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain("Exif\0\0");
    assertThat(new String(kept.bytes(), java.nio.charset.StandardCharsets.ISO_8859_1)).contains("Exif\0\0");
    for (TransformResult r : List.of(stripped, kept)) {
      assertThat(engine.probe(r.data())).isEqualTo(new ImageInfo(ImageFormat.JPEG, 300, 200, 1, false, 1));
    }
  }

  @Test
  void describesItselfWithTheLibraryVersion() {
    assertThat(engine.name()).matches("libvips 8\\.\\d+\\.\\d+");
    assertThat(engine.outputFormats()).containsExactlyInAnyOrder("jpeg", "png", "webp", "avif");
  }

  @Test
  void directMappedSourceIsReadInPlace() {
    ByteBuffer direct = Pictures.direct("painting.jpg");
    assertThat(transform(direct, "w=64", null).width()).isEqualTo(64);
  }
}
