package dev.wimg.server;

import static dev.wimg.server.TestServer.json;
import static dev.wimg.server.TestServer.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resumable uploads by the tus 1.0.0 protocol on {@code /uploads/}: creation, PATCHes at the
 * server's offset, checksums, a restart half-way, termination, concatenation of partial uploads,
 * expiry of an abandoned upload (docs/API.md, "Resumable uploads").
 */
@ExtendWith(NettyLeakCheck.class)
class TusUploadTest {

  private static final int MIB = 1 << 20;
  private static final int CHUNK = 8 * MIB;

  @TempDir
  Path dir;

  private TestServer start() throws IOException {
    return TestServer.start(TestServer.config(dir).withMaxUploadBytes(256L << 20));
  }

  private static HttpRequest.Builder tus(TestServer server, String path) {
    return server.request(path).header("Tus-Resumable", "1.0.0");
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String create(TestServer server, long length, String... headers) {
    HttpRequest.Builder b = tus(server, "/uploads/").header("Upload-Length", Long.toString(length))
        .POST(HttpRequest.BodyPublishers.noBody());
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    HttpResponse<byte[]> r = server.send(b);
    assertThat(r.statusCode()).as(new String(r.body())).isEqualTo(201);
    assertThat(r.headers().firstValue("Tus-Resumable")).hasValue("1.0.0");
    assertThat(r.headers().firstValue("Upload-Expires")).isPresent();
    return URI.create(r.headers().firstValue("Location").orElseThrow()).getPath();
  }

  private static HttpResponse<byte[]> patch(TestServer server, String path, long offset, byte[] body,
                                            String... headers) {
    HttpRequest.Builder b = tus(server, path).header("Upload-Offset", Long.toString(offset))
        .header("Content-Type", "application/offset+octet-stream")
        .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return server.send(b);
  }

  private static long offset(TestServer server, String path) {
    HttpResponse<byte[]> head = server.send(tus(server, path).method("HEAD", HttpRequest.BodyPublishers.noBody()));
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.headers().firstValue("Cache-Control")).hasValue("no-store");
    return Long.parseLong(head.headers().firstValue("Upload-Offset").orElseThrow());
  }

  private static String sha256(byte[] data) throws Exception {
    return "sha256 " + Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(data));
  }

  private static long liveNeedles(TestServer server) {
    return json(server.get("/status")).get("volumes").findValues("liveNeedles").stream()
        .mapToLong(JsonNode::asLong).sum();
  }

  @Test
  void optionsAndTheVersionHeader() throws Exception {
    try (TestServer server = start()) {
      HttpResponse<byte[]> options = server.send(server.request("/uploads/")
          .method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
      assertThat(options.statusCode()).isEqualTo(204);
      assertThat(options.headers().firstValue("Tus-Version")).hasValue("1.0.0");
      assertThat(options.headers().firstValue("Tus-Extension").orElseThrow())
          .contains("creation", "creation-with-upload", "termination", "expiration", "checksum", "concatenation");
      assertThat(options.headers().firstValue("Tus-Checksum-Algorithm")).hasValue("sha256,sha1");
      assertThat(options.headers().firstValue("Tus-Max-Size")).hasValue(String.valueOf(256L << 20));
      HttpResponse<byte[]> noVersion = server.send(server.request("/uploads/").header("Upload-Length", "10")
          .POST(HttpRequest.BodyPublishers.noBody()));
      assertThat(noVersion.statusCode()).isEqualTo(412);
      assertThat(noVersion.headers().firstValue("Tus-Version")).hasValue("1.0.0");
      HttpResponse<byte[]> tooLarge = server.send(tus(server, "/uploads/").header("Upload-Length", String.valueOf(1L << 40))
          .POST(HttpRequest.BodyPublishers.noBody()));
      assertThat(tooLarge.statusCode()).isEqualTo(413);
      HttpResponse<byte[]> noLength = server.send(tus(server, "/uploads/").POST(HttpRequest.BodyPublishers.noBody()));
      assertThat(noLength.statusCode()).isEqualTo(400);
      assertThat(server.send(tus(server, "/uploads/0123").method("HEAD", HttpRequest.BodyPublishers.noBody()))
          .statusCode()).isEqualTo(404);
    }
  }

  @Test
  void anUploadInThreePatchesWithChecksumsAndAWrongOffsetBecomesAFile() throws Exception {
    byte[] data = randomBytes(20 * MIB + 7, 11);
    try (TestServer server = start()) {
      String path = create(server, data.length, "Upload-Metadata",
          "filename " + b64("big.bin") + ",filetype " + b64("application/x-test"));
      assertThat(offset(server, path)).isZero();

      HttpResponse<byte[]> first = patch(server, path, 0, Arrays.copyOf(data, 5 * MIB));
      assertThat(first.statusCode()).as(new String(first.body())).isEqualTo(204);
      assertThat(first.headers().firstValue("Upload-Offset")).hasValue(String.valueOf(5 * MIB));
      // not where the upload is: 409, nothing kept
      HttpResponse<byte[]> wrong = patch(server, path, 0, Arrays.copyOf(data, 100));
      assertThat(wrong.statusCode()).isEqualTo(409);
      // a checksum that does not match: 460, nothing kept
      byte[] second = Arrays.copyOfRange(data, 5 * MIB, 17 * MIB);
      HttpResponse<byte[]> bad = patch(server, path, 5 * MIB, second, "Upload-Checksum", sha256(new byte[1]));
      assertThat(bad.statusCode()).isEqualTo(460);
      assertThat(offset(server, path)).isEqualTo(5 * MIB);
      HttpResponse<byte[]> good = patch(server, path, 5 * MIB, second, "Upload-Checksum", sha256(second));
      assertThat(good.statusCode()).isEqualTo(204);
      assertThat(json(server.get(path)).get("offset").asLong()).isEqualTo(17 * MIB);

      HttpResponse<byte[]> last = patch(server, path, 17 * MIB, Arrays.copyOfRange(data, 17 * MIB, data.length));
      assertThat(last.statusCode()).isEqualTo(204);
      assertThat(last.headers().firstValue("Upload-Offset")).hasValue(String.valueOf(data.length));
      String fid = last.headers().firstValue("X-Wimg-Fid").orElseThrow();
      JsonNode done = json(server.get(path));
      assertThat(done.get("fid").asText()).isEqualTo(fid);
      assertThat(done.get("size").asLong()).isEqualTo(data.length);
      HttpResponse<byte[]> file = server.get("/" + fid);
      assertThat(file.body()).isEqualTo(data);
      assertThat(file.headers().firstValue("Content-Type")).hasValue("application/x-test");
      assertThat(file.headers().firstValue("Content-Disposition").orElseThrow()).contains("big.bin");
      // the upload is complete: no more PATCH
      assertThat(patch(server, path, data.length, new byte[1]).statusCode()).isEqualTo(409);
    }
  }

  @Test
  void aRestartKeepsAnUploadHalfWayAndTheClientGoesOnFromTheServersOffset() throws Exception {
    byte[] data = randomBytes(10 * MIB + 3, 12);
    String path;
    try (TestServer server = start()) {
      path = create(server, data.length);
      assertThat(patch(server, path, 0, Arrays.copyOf(data, 6 * MIB)).statusCode()).isEqualTo(204);
    }
    try (TestServer server = start()) {
      long at = offset(server, path);
      assertThat(at).isEqualTo(6 * MIB);
      HttpResponse<byte[]> rest = patch(server, path, at, Arrays.copyOfRange(data, (int) at, data.length));
      assertThat(rest.statusCode()).isEqualTo(204);
      String fid = rest.headers().firstValue("X-Wimg-Fid").orElseThrow();
      assertThat(server.get("/" + fid).body()).isEqualTo(data);
    }
  }

  @Test
  void terminationRemovesTheUploadAndItsChunks() throws Exception {
    try (TestServer server = start()) {
      long before = liveNeedles(server);
      String path = create(server, 30 * MIB);
      assertThat(patch(server, path, 0, randomBytes(9 * MIB, 13)).statusCode()).isEqualTo(204);
      assertThat(liveNeedles(server) - before).isEqualTo(2);
      HttpResponse<byte[]> gone = server.send(tus(server, path).DELETE());
      assertThat(gone.statusCode()).isEqualTo(204);
      assertThat(server.send(tus(server, path).method("HEAD", HttpRequest.BodyPublishers.noBody())).statusCode())
          .isEqualTo(404);
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
          .until(() -> liveNeedles(server) == before);
    }
  }

  @Test
  void partialUploadsSentInParallelAreConcatenatedIntoOneFile() throws Exception {
    byte[] data = randomBytes(19 * MIB + 11, 14);
    int split = 9 * MIB + 5;
    try (TestServer server = start()) {
      String a = create(server, split, "Upload-Concat", "partial");
      String b = create(server, data.length - split, "Upload-Concat", "partial");
      // creation-with-upload would do too; here both parts in one PATCH each
      assertThat(patch(server, b, 0, Arrays.copyOfRange(data, split, data.length)).statusCode()).isEqualTo(204);
      assertThat(patch(server, a, 0, Arrays.copyOf(data, split)).statusCode()).isEqualTo(204);
      HttpResponse<byte[]> early = server.send(tus(server, "/uploads/").header("Upload-Concat", "final;" + a)
          .POST(HttpRequest.BodyPublishers.noBody()));
      assertThat(early.statusCode()).as("a single complete part is fine").isEqualTo(201);

      String c = create(server, split, "Upload-Concat", "partial");
      String d = create(server, data.length - split, "Upload-Concat", "partial");
      assertThat(patch(server, c, 0, Arrays.copyOf(data, split)).statusCode()).isEqualTo(204);
      HttpResponse<byte[]> incomplete = server.send(tus(server, "/uploads/")
          .header("Upload-Concat", "final;" + c + " " + d).POST(HttpRequest.BodyPublishers.noBody()));
      assertThat(incomplete.statusCode()).isEqualTo(400);
      assertThat(patch(server, d, 0, Arrays.copyOfRange(data, split, data.length)).statusCode()).isEqualTo(204);
      HttpResponse<byte[]> whole = server.send(tus(server, "/uploads/")
          .header("Upload-Concat", "final;" + server.uri(c) + " " + d).POST(HttpRequest.BodyPublishers.noBody()));
      assertThat(whole.statusCode()).as(new String(whole.body())).isEqualTo(201);
      String fid = whole.headers().firstValue("X-Wimg-Fid").orElseThrow();
      assertThat(server.get("/" + fid).body()).isEqualTo(data);
    }
  }

  @Test
  void creationWithUploadTakesTheFirstBytesWithThePost() throws Exception {
    byte[] data = randomBytes(3 * MIB, 15);
    try (TestServer server = start()) {
      HttpResponse<byte[]> r = server.send(tus(server, "/uploads/").header("Upload-Length", String.valueOf(data.length))
          .header("Content-Type", "application/offset+octet-stream")
          .POST(HttpRequest.BodyPublishers.ofByteArray(Arrays.copyOf(data, MIB))));
      assertThat(r.statusCode()).isEqualTo(201);
      assertThat(r.headers().firstValue("Upload-Offset")).hasValue(String.valueOf(MIB));
      String path = URI.create(r.headers().firstValue("Location").orElseThrow()).getPath();
      HttpResponse<byte[]> rest = patch(server, path, MIB, Arrays.copyOfRange(data, MIB, data.length));
      assertThat(server.get("/" + rest.headers().firstValue("X-Wimg-Fid").orElseThrow()).body()).isEqualTo(data);
    }
  }

  /**
   * An upload left half-way is removed once its expiry passes: its state file and its chunks go,
   * and the automatic vacuum gives their space back (the volume file shrinks by the bytes sent),
   * while a file stored beside them stays.
   */
  @Test
  void anAbandonedUploadExpiresAndVacuumGivesItsSpaceBack() throws Exception {
    // volumes of 48 MiB: the one that holds the chunks is past half full, which the automatic
    // vacuum asks of the active volume
    ServerConfig config = TestServer.config(dir).withMaxUploadBytes(256L << 20)
        .withUploadExpiry(Duration.ofSeconds(2)).withVolumeSizeLimit(48L << 20);
    byte[] kept = randomBytes(MIB, 16);
    // four chunks' worth (three of 8 MiB, one of 1 MiB) of a 64 MiB upload, the rest never sent
    byte[] sent = randomBytes(3 * CHUNK + MIB, 17);
    try (TestServer server = TestServer.start(config)) {
      String keptUrl = server.upload(kept, "application/octet-stream", "kept.bin").get("url").asText();
      // creation-with-upload: the POST holds the upload while its body is stored, so the short
      // expiry cannot remove it before it is answered
      HttpResponse<byte[]> created = server.send(tus(server, "/uploads/").header("Upload-Length", String.valueOf(64 * MIB))
          .header("Content-Type", "application/offset+octet-stream")
          .POST(HttpRequest.BodyPublishers.ofByteArray(sent)));
      assertThat(created.statusCode()).as(new String(created.body())).isEqualTo(201);
      assertThat(created.headers().firstValue("Upload-Offset")).hasValue(String.valueOf(sent.length));
      String path = URI.create(created.headers().firstValue("Location").orElseThrow()).getPath();
      Path state = dir.resolve("uploads").resolve(path.substring("/uploads/".length()) + ".json");
      assertThat(TestServer.JSON.readTree(state.toFile()).get("chunks")).hasSize(4);
      assertThat(liveNeedles(server)).isEqualTo(5);
      long before = datBytes();
      assertThat(before).isGreaterThan(sent.length + kept.length);

      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
          .until(() -> !Files.exists(state));
      assertThat(server.send(tus(server, path).method("HEAD", HttpRequest.BodyPublishers.noBody())).statusCode())
          .isEqualTo(404);
      assertThat(server.get(path).statusCode()).isEqualTo(404);
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
          .until(() -> liveNeedles(server) == 1);
      // the chunks' space is given back: the volume is vacuumed down to the kept file (the files
      // are renamed before the store's figures change, so both are waited for)
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
          .until(() -> before - datBytes() >= sent.length && garbageBytes(server) == 0);
      long after = datBytes();
      assertThat(after).as("volume bytes after the vacuum, %d before", before).isLessThan(kept.length + 64 * 1024);
      assertThat(server.get(keptUrl).body()).isEqualTo(kept);
    }
  }

  private static long garbageBytes(TestServer server) {
    return json(server.get("/status")).get("volumes").findValues("garbageBytes").stream()
        .mapToLong(JsonNode::asLong).sum();
  }

  /** Bytes of the volume files ({@code .dat}) in the data folder. */
  private long datBytes() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      long total = 0;
      for (Path f : files.filter(p -> p.toString().endsWith(".dat")).toList()) {
        total += Files.size(f);
      }
      return total;
    }
  }
}
