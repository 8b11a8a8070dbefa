package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.testsupport.RequiresLibvips;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Concurrent transforms of sources that a decoder must hold whole stay within the server's memory
 * goal: each reserves its estimated working memory before it decodes ({@code Limits
 * #maxTransformMemory}), so the transform workers do not all hold a few hundred MB at once.
 *
 * <p>Measured with {@code ./wimg server}, 5 December 2026, before the gate: eight requests of a
 * 33 KB GIF of one 65,535 × 762 frame (decoded whole, 300 MB while it runs) took the process from
 * 198 MB to 1.0 GB; two 4096 × 4096 AVIF outputs at once to 998 MB.
 */
@RequiresLibvips
class TransformMemoryTest {

  /** The memory goal for the server process, bytes. */
  private static final long MAX_SERVER_PEAK_RSS = 768L << 20;

  @TempDir
  Path dir;

  @Test
  void concurrentGiantGifFramesStayWithinTheMemoryGoal() throws Exception {
    byte[] gif = giantFrameGif(160, 120, 65_535, 762);
    assertThat(gif.length).isLessThan(40_000);
    List<String> queries = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      // Another width each, so that no answer is another's output.
      queries.add("w=" + (300 + i) + "&format=png");
    }
    transformConcurrently(gif, "image/gif", queries,
        "a " + gif.length + "-byte GIF of one 65535x762 frame");
  }

  /**
   * The AV1 encoder takes the whole output and works on copies of it: one 4096 × 4096 AVIF held
   * 370 MB, and two at once took {@code ./wimg server} to 998 MB before the encoder was counted.
   */
  @Test
  void concurrentLargeAvifOutputsStayWithinTheMemoryGoal() throws Exception {
    BufferedImage noise = new BufferedImage(256, 256, BufferedImage.TYPE_INT_RGB);
    Random random = new Random(5);
    for (int y = 0; y < noise.getHeight(); y++) {
      for (int x = 0; x < noise.getWidth(); x++) {
        noise.setRGB(x, y, random.nextInt(1 << 24));
      }
    }
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ImageIO.write(noise, "png", png);
    transformConcurrently(png.toByteArray(), "image/png",
        List.of("w=4096&h=4096&mode=stretch&format=avif&q=50",
            "w=4096&h=4096&mode=stretch&format=avif&q=51"),
        "a 256x256 PNG of noise");
  }

  /**
   * Uploads {@code source} to a server in a child JVM with two transform workers, asks every
   * query at once, and checks the answers and the server's peak RSS.
   */
  private void transformConcurrently(byte[] source, String type, List<String> queries,
                                     String what) throws Exception {
    try (ServerProcess server = ServerProcess.start(dir.resolve("data"), dir.resolve("server.log"),
        List.of("-Xmx256m", "-XX:ActiveProcessorCount=2"))) {
      String fid = server.upload(source, "source", type, () -> what);
      long before = server.procStatusBytes("VmHWM");
      List<CompletableFuture<RawConnection.Response>> answers = new ArrayList<>();
      try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
        for (String query : queries) {
          String path = "/" + fid + "?" + query;
          answers.add(CompletableFuture.supplyAsync(() -> server.get(path, () -> path), clients));
        }
      }
      Map<Integer, Integer> statuses = new TreeMap<>();
      for (CompletableFuture<RawConnection.Response> answer : answers) {
        RawConnection.Response response = answer.join();
        statuses.merge(response.status(), 1, Integer::sum);
        if (response.status() != 200) {
          // A transform may wait for memory at most the time budget; on a slow machine a wait can
          // pass it, and that answer is the documented 503, never another error.
          assertThat(response.status()).as("%s", response.bodyText()).isEqualTo(503);
          assertThat(response.bodyText()).contains("working memory");
        }
      }
      long peak = server.procStatusBytes("VmHWM");
      System.out.printf("%d transforms of %s: %s; server peak RSS %d MiB before them, %d MiB"
          + " after%n", queries.size(), what, statuses, before >> 20, peak >> 20);
      assertThat(statuses.getOrDefault(200, 0)).as("answers by status %s", statuses)
          .isGreaterThanOrEqualTo(Math.max(1, queries.size() / 2));
      assertThat(peak).as("server peak RSS (VmHWM), answers %s", statuses)
          .isLessThan(MAX_SERVER_PEAK_RSS);
      assertThat(server.isAlive()).isTrue();
    }
  }

  /**
   * A GIF of a {@code screenWidth × screenHeight} screen holding one frame of {@code frameWidth ×
   * frameHeight} pixels, all of colour 0, LZW-coded in runs: a few bytes per thousands of pixels.
   */
  static byte[] giantFrameGif(int screenWidth, int screenHeight, int frameWidth, int frameHeight) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteBuffer head = ByteBuffer.allocate(13 + 6 + 10).order(ByteOrder.LITTLE_ENDIAN);
    head.put("GIF89a".getBytes(StandardCharsets.US_ASCII)).putShort((short) screenWidth)
        .putShort((short) screenHeight).put((byte) 0x80).put((byte) 0).put((byte) 0)
        .put(new byte[] {0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 0xff})
        .put((byte) 0x2c).putShort((short) 0).putShort((short) 0).putShort((short) frameWidth)
        .putShort((short) frameHeight).put((byte) 0);
    out.writeBytes(head.array());
    byte[] codes = lzwRunsOfZero((long) frameWidth * frameHeight);
    out.write(MIN_CODE_SIZE);
    for (int i = 0; i < codes.length; i += 255) {
      int n = Math.min(255, codes.length - i);
      out.write(n);
      out.write(codes, i, n);
    }
    out.write(0);
    out.write(0x3b);
    return out.toByteArray();
  }

  private static final int MIN_CODE_SIZE = 2;

  /** GIF LZW codes for {@code pixels} pixels of index 0: each new table entry is a longer run. */
  private static byte[] lzwRunsOfZero(long pixels) {
    int clear = 1 << MIN_CODE_SIZE;
    int end = clear + 1;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long bits = 0;
    int bitCount = 0;
    int codeSize = MIN_CODE_SIZE + 1;
    int next = end + 1;
    // The table's run codes: runs[l] is the code of a run of l zeros (1 is the literal 0).
    int[] runs = new int[4097];
    int longest = 1;
    runs[1] = 0;
    List<int[]> emitted = new ArrayList<>();
    emitted.add(new int[] {clear, codeSize});
    long remaining = pixels;
    while (remaining > 0) {
      int length = (int) Math.min(longest, remaining);
      emitted.add(new int[] {runs[length], codeSize});
      remaining -= length;
      if (remaining > 0) {
        if (next < 4096) {
          if (length == longest) {
            runs[++longest] = next;
          }
          next++;
          if (next == 1 << codeSize && codeSize < 12) {
            codeSize++;
          }
        } else {
          emitted.add(new int[] {clear, codeSize});
          codeSize = MIN_CODE_SIZE + 1;
          next = end + 1;
          longest = 1;
        }
      }
    }
    emitted.add(new int[] {end, codeSize});
    for (int[] code : emitted) {
      bits |= (long) code[0] << bitCount;
      bitCount += code[1];
      while (bitCount >= 8) {
        out.write((int) (bits & 0xff));
        bits >>>= 8;
        bitCount -= 8;
      }
    }
    if (bitCount > 0) {
      out.write((int) (bits & 0xff));
    }
    return out.toByteArray();
  }
}
