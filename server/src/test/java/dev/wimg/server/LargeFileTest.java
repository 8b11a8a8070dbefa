package dev.wimg.server;

import static dev.wimg.server.TestServer.json;
import static dev.wimg.server.TestServer.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files larger than one chunk (8 MiB): stored as chunks plus a manifest as the body streams in,
 * read back whole and by ranges across chunk boundaries, deleted with their chunks
 * (docs/FORMAT.md, "Large files").
 */
@ExtendWith(NettyLeakCheck.class)
class LargeFileTest {

  private static final int CHUNK = 8 << 20;

  @TempDir
  static Path dir;
  static TestServer server;

  @BeforeAll
  static void start() throws IOException {
    server = TestServer.start(TestServer.config(dir).withMaxUploadBytes(256L << 20));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static long liveNeedles() {
    return json(server.get("/status")).get("volumes").findValues("liveNeedles").stream()
        .mapToLong(JsonNode::asLong).sum();
  }

  @Test
  void aFileOfTwoAndAHalfChunksReadsBackWholeAndByRangesAcrossChunks() throws Exception {
    byte[] data = randomBytes(2 * CHUNK + CHUNK / 2, 7);
    long before = liveNeedles();
    JsonNode up = server.upload(data, "application/x-iso9660-image", "disc.iso");
    assertThat(up.get("size").asLong()).isEqualTo(data.length);
    // three chunks and the manifest
    assertThat(liveNeedles() - before).isEqualTo(4);

    HttpResponse<byte[]> get = server.get(up.get("url").asText());
    assertThat(get.statusCode()).isEqualTo(200);
    assertThat(get.headers().firstValue("Content-Length")).hasValue(String.valueOf(data.length));
    assertThat(get.headers().firstValue("ETag")).hasValue(up.get("etag").asText());
    assertThat(get.headers().firstValue("Content-Type")).hasValue("application/x-iso9660-image");
    assertThat(get.body()).isEqualTo(data);

    HttpResponse<byte[]> head = server.head(up.get("url").asText());
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.headers().firstValue("Content-Length")).hasValue(String.valueOf(data.length));
    assertThat(head.body()).isEmpty();

    // a range across the first chunk boundary, one across both, the last bytes
    int from = CHUNK - 100;
    HttpResponse<byte[]> across = server.get(up.get("url").asText(), "Range", "bytes=" + from + "-" + (CHUNK + 99));
    assertThat(across.statusCode()).isEqualTo(206);
    assertThat(across.headers().firstValue("Content-Range"))
        .hasValue("bytes " + from + "-" + (CHUNK + 99) + "/" + data.length);
    assertThat(across.body()).isEqualTo(Arrays.copyOfRange(data, from, CHUNK + 100));
    HttpResponse<byte[]> both = server.get(up.get("url").asText(), "Range", "bytes=5-" + (2 * CHUNK + 5));
    assertThat(both.body()).isEqualTo(Arrays.copyOfRange(data, 5, 2 * CHUNK + 6));
    HttpResponse<byte[]> tail = server.get(up.get("url").asText(), "Range", "bytes=-10");
    assertThat(tail.body()).isEqualTo(Arrays.copyOfRange(data, data.length - 10, data.length));
    HttpResponse<byte[]> beyond = server.get(up.get("url").asText(), "Range", "bytes=" + data.length + "-");
    assertThat(beyond.statusCode()).isEqualTo(416);

    // the chunk list a client checks its download with: offsets, sizes, SHA-256s of the bytes
    JsonNode chunks = json(server.get(up.get("url").asText() + "?chunks"));
    assertThat(chunks.get("size").asLong()).isEqualTo(data.length);
    assertThat(chunks.get("chunks")).hasSize(3);
    for (JsonNode c : chunks.get("chunks")) {
      int offset = (int) c.get("offset").asLong();
      int size = (int) c.get("size").asLong();
      assertThat(offset % CHUNK).isZero();
      assertThat(c.get("sha256").asText()).isEqualTo(java.util.HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(Arrays.copyOfRange(data, offset, offset + size))));
    }

    // the delete takes the chunks with the manifest
    assertThat(server.delete(up.get("url").asText()).statusCode()).isEqualTo(204);
    assertThat(server.get(up.get("url").asText()).statusCode()).isEqualTo(404);
    assertThat(liveNeedles()).isEqualTo(before);
  }

  @Test
  void aBodyOfUnknownLengthIsChunkedAsItStreamsAndASmallOneStaysAPlainFile() throws Exception {
    byte[] data = randomBytes(3 * CHUNK + 12_345, 8);
    // an InputStream publisher sends Transfer-Encoding: chunked (no Content-Length)
    HttpResponse<byte[]> answer = server.send(server.request("/files?name=big.bin")
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(data))));
    assertThat(answer.statusCode()).as(new String(answer.body())).isEqualTo(201);
    JsonNode up = json(answer);
    assertThat(up.get("size").asLong()).isEqualTo(data.length);
    assertThat(sha256(server.get(up.get("url").asText()).body())).isEqualTo(sha256(data));

    byte[] small = randomBytes(1000, 9);
    long before = liveNeedles();
    HttpResponse<byte[]> smallAnswer = server.send(server.request("/files")
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(small))));
    assertThat(smallAnswer.statusCode()).isEqualTo(201);
    assertThat(liveNeedles() - before).isEqualTo(1);
    assertThat(server.get(json(smallAnswer).get("url").asText()).body()).isEqualTo(small);
  }

  @Test
  void aFileLargerThanTheLimitIsRefusedAndLeavesNoChunkBehind() throws Exception {
    long before = liveNeedles();
    HttpResponse<byte[]> declared = server.postRaw(new byte[0], null, null, "X-Ignored", "1");
    assertThat(declared.statusCode()).isEqualTo(201); // an empty upload is a file too
    long afterEmpty = liveNeedles();
    assertThat(afterEmpty - before).isEqualTo(1);
    // 300 MiB streamed with no length: refused at 256 MiB, its chunks deleted
    InputStream endless = new InputStream() {
      private final Random random = new Random(1);
      private long left = 300L << 20;

      @Override
      public int read() {
        return left-- > 0 ? random.nextInt(256) : -1;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (left <= 0) {
          return -1;
        }
        int n = (int) Math.min(len, left);
        Arrays.fill(b, off, off + n, (byte) 7);
        left -= n;
        return n;
      }
    };
    HttpResponse<byte[]> refused;
    try {
      refused = server.send(server.request("/files").POST(HttpRequest.BodyPublishers.ofInputStream(() -> endless)));
      assertThat(refused.statusCode()).isEqualTo(413);
    } catch (java.io.UncheckedIOException closedEarly) {
      // the server closes after its 413; the client may see the broken pipe first
    }
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
        .until(() -> liveNeedles() == afterEmpty);
  }

  @Test
  void aPictureLargerThanAChunkIsTransformedFromItsChunks() throws Exception {
    java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(1800, 1800,
        java.awt.image.BufferedImage.TYPE_INT_RGB);
    Random random = new Random(3);
    for (int y = 0; y < 1800; y++) {
      for (int x = 0; x < 1800; x++) {
        image.setRGB(x, y, random.nextInt(1 << 24));
      }
    }
    java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
    javax.imageio.ImageIO.write(image, "png", png);
    assertThat(png.size()).as("a PNG of noise larger than one chunk").isGreaterThan(CHUNK);
    JsonNode up = server.upload(png.toByteArray(), "image/png", "noise.png");

    HttpResponse<byte[]> thumb = server.get(up.get("url").asText() + "?w=120");
    assertThat(thumb.statusCode()).as(new String(thumb.body())).isEqualTo(200);
    java.awt.image.BufferedImage decoded = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(thumb.body()));
    assertThat(decoded.getWidth()).isEqualTo(120);
    assertThat(decoded.getHeight()).isEqualTo(120);
  }

  private static byte[] sha256(byte[] data) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(data);
  }
}
