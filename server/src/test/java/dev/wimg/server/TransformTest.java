package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.wimg.server.internal.http.ServerTuning;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Transforms over HTTP on the pure-Java engine (so they run everywhere). */
@ExtendWith(NettyLeakCheck.class)
class TransformTest {

  @TempDir
  Path dir;

  private final GatedEngine engine = new GatedEngine();
  private TestServer server;

  @AfterEach
  void stop() {
    engine.open();
    if (server != null) {
      server.close();
    }
  }

  static byte[] picture(String name) {
    try (InputStream in = TransformTest.class.getResourceAsStream("/pictures/" + name)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static BufferedImage decode(HttpResponse<byte[]> response) {
    try {
      BufferedImage image = ImageIO.read(new ByteArrayInputStream(response.body()));
      assertThat(image).as("decodable picture").isNotNull();
      return image;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private TestServer start(ServerTuning tuning) throws IOException {
    server = TestServer.start(TestServer.config(dir), tuning, engine);
    return server;
  }

  private TestServer start() throws IOException {
    return start(ServerTuning.defaults());
  }

  private String upload(String picture) {
    return server.upload(picture(picture), null, picture).get("fid").asText();
  }

  private JsonNode imaging() {
    HttpResponse<byte[]> status = server.get("/status");
    assertThat(status.statusCode()).isEqualTo(200);
    return TestServer.json(status).get("imaging");
  }

  private static String error(HttpResponse<byte[]> response) {
    return TestServer.json(response).get("error").asText();
  }

  @Test
  void resizesAndConvertsOverHttp() throws IOException {
    start();
    String fid = upload("painting.jpg");

    HttpResponse<byte[]> jpeg = server.get("/" + fid + "?w=100");
    assertThat(jpeg.statusCode()).isEqualTo(200);
    assertThat(jpeg.headers().firstValue("Content-Type")).hasValue("image/jpeg");
    assertThat(jpeg.headers().firstValue("Cache-Control")).hasValue("public, max-age=31536000, immutable");
    assertThat(jpeg.headers().firstValueAsLong("Content-Length")).hasValue(jpeg.body().length);
    BufferedImage small = decode(jpeg);
    assertThat(small.getWidth()).isEqualTo(100);
    assertThat(small.getHeight()).isEqualTo(67);

    HttpResponse<byte[]> png = server.get("/" + fid + "/painting.jpg?w=50&h=50&mode=fill&format=png");
    assertThat(png.statusCode()).isEqualTo(200);
    assertThat(png.headers().firstValue("Content-Type")).hasValue("image/png");
    BufferedImage square = decode(png);
    assertThat(square.getWidth()).isEqualTo(50);
    assertThat(square.getHeight()).isEqualTo(50);

    HttpResponse<byte[]> head = server.head("/" + fid + "?w=100");
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.headers().firstValueAsLong("Content-Length")).hasValue(jpeg.body().length);
    assertThat(head.body()).isEmpty();

    assertThat(imaging().get("engine").asText()).startsWith("java");
  }

  @Test
  void withoutParametersTheOriginalIsServedUntouched() throws IOException {
    start();
    byte[] original = picture("painting.jpg");
    String fid = upload("painting.jpg");
    assertThat(server.get("/" + fid).body()).isEqualTo(original);
    // every parameter at its default is no transform either
    assertThat(server.get("/" + fid + "?strip=1&rotate=0").body()).isEqualTo(original);
    assertThat(engine.calls()).isZero();
  }

  @Test
  void badRequestsGetJsonErrorsNamingTheLimitAndValue() throws IOException {
    start();
    String fid = upload("painting.jpg");

    HttpResponse<byte[]> unknown = server.get("/" + fid + "?width=10");
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(unknown.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(error(unknown)).startsWith("unknown parameter \"width\"");

    HttpResponse<byte[]> tooWide = server.get("/" + fid + "?w=90000");
    assertThat(tooWide.statusCode()).isEqualTo(400);
    assertThat(error(tooWide)).isEqualTo("w must be 1..8192, got 90000");

    HttpResponse<byte[]> banana = server.get("/" + fid + "?w=10&mode=banana");
    assertThat(banana.statusCode()).isEqualTo(400);
    assertThat(error(banana)).isEqualTo("mode must be one of fit, fill, stretch, pad, got \"banana\"");

    HttpResponse<byte[]> webp = server.get("/" + fid + "?w=10&format=webp");
    assertThat(webp.statusCode()).isEqualTo(501);
    assertThat(error(webp)).isEqualTo("the java engine cannot write webp; it writes jpeg, png");

    String wrongCookie = fid.substring(0, fid.length() - 1) + (fid.endsWith("0") ? "1" : "0");
    HttpResponse<byte[]> missing = server.get("/" + wrongCookie + "?w=10");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(engine.calls()).isEqualTo(1);
  }

  @Test
  void aTextFileDownloadsUntouchedButCannotBeTransformed() throws IOException {
    start();
    byte[] text = "just some words, not a picture\n".getBytes(StandardCharsets.US_ASCII);
    String fid = server.upload(text, "text/plain", "notes.txt").get("fid").asText();

    assertThat(server.get("/" + fid).body()).isEqualTo(text);
    HttpResponse<byte[]> transformed = server.get("/" + fid + "?w=10");
    assertThat(transformed.statusCode()).isEqualTo(415);
    assertThat(error(transformed)).startsWith("source is not a picture (starts with 6a 75 73 74");
  }

  @Test
  void aTruncatedJpegIsUnprocessable() throws IOException {
    start();
    byte[] whole = picture("painting.jpg");
    String fid = server.upload(Arrays.copyOf(whole, whole.length / 2), "image/jpeg", "cut.jpg").get("fid").asText();

    HttpResponse<byte[]> response = server.get("/" + fid + "?w=10");
    assertThat(response.statusCode()).isEqualTo(422);
    assertThat(error(response)).startsWith("source cannot be decoded");
  }

  @Test
  void etagNamesOriginalAndTransformAndIfNoneMatchAnswers304WithoutComputing() throws IOException {
    // nothing kept in memory or on disk: every answer comes from the original
    ImagingConfig nothingKept = ImagingConfig.defaults().withCacheBytes(0).withDerivedCapBytes(0);
    server = TestServer.start(TestServer.config(dir).withImaging(nothingKept), ServerTuning.defaults(), engine);
    String fid = upload("painting.jpg");
    String originalEtag = server.get("/" + fid).headers().firstValue("ETag").orElseThrow();

    String etag100 = server.get("/" + fid + "?w=100").headers().firstValue("ETag").orElseThrow();
    String etag101 = server.get("/" + fid + "?w=101").headers().firstValue("ETag").orElseThrow();
    assertThat(etag100).startsWith(originalEtag.substring(0, originalEtag.length() - 1) + "-")
        .isNotEqualTo(etag101);
    assertThat(server.get("/" + fid + "?w=0100").headers().firstValue("ETag")).hasValue(etag100);
    assertThat(engine.calls()).isEqualTo(3);

    HttpResponse<byte[]> again = server.get("/" + fid + "?w=100", "If-None-Match", etag100);
    assertThat(again.statusCode()).isEqualTo(304);
    assertThat(again.headers().firstValue("ETag")).hasValue(etag100);
    // not computed again: the 304 comes from the original's checksum alone
    assertThat(server.get("/" + fid + "?w=100", "If-None-Match", "\"nope\", " + etag100).statusCode())
        .isEqualTo(304);
    assertThat(engine.calls()).isEqualTo(3);
    assertThat(server.get("/" + fid + "?w=100", "If-None-Match", etag101).statusCode()).isEqualTo(200);
    assertThat(engine.calls()).isEqualTo(4);
  }

  @Test
  void autoFormatVariesWithAccept() throws IOException {
    start();
    String fid = upload("painting.jpg");

    HttpResponse<byte[]> auto = server.get("/" + fid + "?w=40&format=auto", "Accept", "image/webp,*/*");
    assertThat(auto.statusCode()).isEqualTo(200);
    assertThat(auto.headers().firstValue("Vary")).hasValue("accept");
    // the java engine writes no webp: the source's format
    assertThat(auto.headers().firstValue("Content-Type")).hasValue("image/jpeg");

    HttpResponse<byte[]> fixed = server.get("/" + fid + "?w=40");
    assertThat(fixed.headers().firstValue("Vary")).isEmpty();
  }

  @Test
  void concurrentIdenticalRequestsComputeOnce() throws Exception {
    start();
    String fid = upload("painting.jpg");
    engine.close();
    int n = 8;
    var requests = new java.util.ArrayList<java.util.concurrent.CompletableFuture<HttpResponse<byte[]>>>();
    for (int i = 0; i < n; i++) {
      requests.add(server.http.sendAsync(server.request("/" + fid + "?w=120&h=80&mode=fill").GET().build(),
          HttpResponse.BodyHandlers.ofByteArray()));
    }
    // every request has joined the one computation held at the gate
    await().until(() -> imaging().get("derived").get("misses").asLong() == n);
    engine.open();
    byte[] first = requests.getFirst().get().body();
    for (var request : requests) {
      HttpResponse<byte[]> response = request.get();
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo(first);
    }
    assertThat(engine.calls()).isEqualTo(1);
    assertThat(imaging().get("transforms").asLong()).isEqualTo(1);
  }

  @Test
  void aFullQueueAnswers503WithRetryAfter() throws Exception {
    server = TestServer.start(TestServer.config(dir).withImaging(ImagingConfig.defaults().withQueueLength(1)),
        ServerTuning.defaults().withTransformThreads(1), engine);
    String fid = upload("painting.jpg");
    engine.close();
    var running = server.http.sendAsync(server.request("/" + fid + "?w=10").GET().build(),
        HttpResponse.BodyHandlers.ofByteArray());
    await().until(() -> engine.calls() == 1);
    var queued = server.http.sendAsync(server.request("/" + fid + "?w=11").GET().build(),
        HttpResponse.BodyHandlers.ofByteArray());
    await().until(() -> imaging().get("queued").asInt() == 1);

    HttpResponse<byte[]> refused = server.get("/" + fid + "?w=12");
    assertThat(refused.statusCode()).isEqualTo(503);
    assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
    assertThat(error(refused)).isEqualTo("too many transforms waiting (queue of 1); retry later");

    engine.open();
    assertThat(running.get().statusCode()).isEqualTo(200);
    assertThat(queued.get().statusCode()).isEqualTo(200);
    assertThat(server.get("/" + fid + "?w=12").statusCode()).isEqualTo(200);
  }

  @Test
  void presetsExpandAndPresetsOnlyRefusesTheRest() throws IOException {
    ImagingConfig imaging = ImagingConfig.defaults()
        .withPresets(java.util.Map.of("thumb", "w=20&h=20&mode=fill"), true);
    server = TestServer.start(TestServer.config(dir).withImaging(imaging), ServerTuning.defaults(), engine);
    String fid = upload("painting.jpg");

    HttpResponse<byte[]> thumb = server.get("/" + fid + "?p=thumb");
    assertThat(thumb.statusCode()).isEqualTo(200);
    assertThat(decode(thumb).getWidth()).isEqualTo(20);
    assertThat(decode(thumb).getHeight()).isEqualTo(20);

    HttpResponse<byte[]> free = server.get("/" + fid + "?w=300");
    assertThat(free.statusCode()).isEqualTo(400);
    assertThat(error(free)).isEqualTo("only presets are allowed (p=one of [thumb]), got w");

    HttpResponse<byte[]> unknown = server.get("/" + fid + "?p=huge");
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(error(unknown)).isEqualTo("p must be one of thumb, got \"huge\"");
  }

  @Test
  void aBadPresetIsRefusedWithTheConfiguration() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> ImagingConfig.defaults().withPresets(java.util.Map.of("big", "w=9000"), false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("preset big: w must be 1..8192, got 9000");
  }
}
