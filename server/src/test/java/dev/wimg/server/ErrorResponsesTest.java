package dev.wimg.server;

import static dev.wimg.server.TestServer.json;
import static dev.wimg.server.TestServer.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import dev.wimg.protocol.Fid;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(NettyLeakCheck.class)
class ErrorResponsesTest {

  static final int LIMIT = 64 << 10;

  @TempDir
  static Path dir;
  static TestServer server;

  @BeforeAll
  static void start() throws IOException {
    server = TestServer.start(TestServer.config(dir).withMaxUploadBytes(LIMIT));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static void assertJsonError(HttpResponse<byte[]> response, int status, String message) {
    assertThat(response.statusCode()).isEqualTo(status);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonNode body = json(response);
    assertThat(body.properties()).extracting(e -> e.getKey()).containsExactly("error", "status");
    assertThat(body.get("error").asText()).isEqualTo(message);
    assertThat(body.get("status").asInt()).isEqualTo(status);
  }

  static String fidParseError(String text) {
    return catchThrowableOfType(IllegalArgumentException.class, () -> Fid.parse(text)).getMessage();
  }

  @Test
  void pathThatCannotBeAFidIs400WithTheParseError() {
    assertJsonError(server.get("/hello"), 400, fidParseError("hello"));
    assertJsonError(server.get("/1-1,zz000000000"), 400, fidParseError("1-1,zz000000000"));
    assertJsonError(server.get("/favicon.ico"), 400, fidParseError("favicon.ico"));
  }

  @Test
  void pathWithMoreThanOneNameSegmentIs400() {
    String fid = server.upload(randomBytes(5, 1), null, null).get("fid").asText();
    assertJsonError(server.get("/" + fid + "/a/b.jpg"), 400,
        "path must be /<fid> or /<fid>/<name>, with one name segment");
  }

  @Test
  void unknownFidAndWrongCookieGiveTheSameAnswer() {
    String fid = server.upload(randomBytes(5, 2), null, null).get("fid").asText();
    Fid real = Fid.parse(fid);
    Fid wrongCookie = new Fid(real.group(), real.volume(), real.key(), ~real.cookie());
    Fid unknownKey = new Fid(real.group(), real.volume(), real.key() + 1000, real.cookie());
    Fid unknownVolume = new Fid(real.group(), real.volume() + 50, real.key(), real.cookie());
    Fid otherGroup = new Fid(real.group() + 1, real.volume(), real.key(), real.cookie());

    HttpResponse<byte[]> reference = server.get("/" + wrongCookie);
    assertJsonError(reference, 404, "file not found");
    for (Fid fake : new Fid[] {unknownKey, unknownVolume, otherGroup}) {
      HttpResponse<byte[]> response = server.get("/" + fake);
      assertThat(response.statusCode()).isEqualTo(404);
      assertThat(response.body()).isEqualTo(reference.body());
      assertThat(response.headers().map().keySet()).isEqualTo(reference.headers().map().keySet());
    }
  }

  @Test
  void unsupportedMethodsAre405WithAllow() {
    String url = server.upload(randomBytes(5, 3), null, null).get("url").asText();

    HttpResponse<byte[]> put = server.send(server.request(url).PUT(HttpRequest.BodyPublishers.ofString("x")));
    assertJsonError(put, 405, "method PUT is not allowed here; allowed: GET, HEAD, DELETE");
    assertThat(put.headers().firstValue("Allow")).hasValue("GET, HEAD, DELETE");

    HttpResponse<byte[]> getFiles = server.get("/files");
    assertJsonError(getFiles, 405, "method GET is not allowed here; allowed: POST");
    assertThat(getFiles.headers().firstValue("Allow")).hasValue("POST");

    HttpResponse<byte[]> postStatus = server.send(server.request("/status").POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(postStatus.statusCode()).isEqualTo(405);
    assertThat(postStatus.headers().firstValue("Allow")).hasValue("GET, HEAD");
    assertThat(server.delete("/metrics").headers().firstValue("Allow")).hasValue("GET, HEAD");
  }

  @Test
  void rootAndPathsBelowReservedNamesAre404() {
    for (String path : new String[] {"/", "/files/x", "/status/", "/metrics/foo"}) {
      assertJsonError(server.get(path), 404, "no such resource");
    }
  }

  @Test
  void bodyOverTheLimitIs413() {
    HttpResponse<byte[]> response = server.postRaw(new byte[LIMIT + 1], "image/png", null);
    assertJsonError(response, 413, "upload of " + (LIMIT + 1) + " bytes exceeds the limit of " + LIMIT + " bytes");
  }

  @Test
  void bodyOfExactlyTheLimitIsStored() {
    assertThat(server.postRaw(new byte[LIMIT], null, null).statusCode()).isEqualTo(201);
  }

  @Test
  void expectContinueWithTooLargeLengthIs413WithoutReadingTheBody() throws IOException {
    try (RawConnection raw = server.raw()) {
      raw.send("POST /files HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\nExpect: 100-continue\r\n\r\n");

      RawConnection.Response response = raw.read();

      assertThat(response.status()).isEqualTo(413);
      assertThat(response.header("connection")).isEqualTo("close");
      assertThat(response.bodyText()).isEqualTo(
          "{\"error\":\"upload of 1000000000 bytes exceeds the limit of 65536 bytes\",\"status\":413}");
      assertThat(raw.isClosedByServer()).isTrue();
    }
  }

  @Test
  void expectContinueWithinTheLimitGets100ThenTheUploadIsStored() throws IOException {
    try (RawConnection raw = server.raw()) {
      raw.send("POST /files?name=c.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
      RawConnection.Response interim = raw.read();
      assertThat(interim.status()).isEqualTo(100);

      raw.send("hello");
      RawConnection.Response response = raw.read();

      assertThat(response.status()).isEqualTo(201);
      assertThat(response.bodyText()).contains("\"size\":5");
    }
  }

  @Test
  void httpClientExpectContinueIsRefusedWith413() {
    HttpResponse<byte[]> response = server.send(server.request("/files").expectContinue(true)
        .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[LIMIT * 2])));
    assertThat(response.statusCode()).isEqualTo(413);
  }

  @Test
  void tooLargeLengthWithoutExpectIs413BeforeTheBodyIsSent() throws IOException {
    try (RawConnection raw = server.raw()) {
      raw.send("POST /files HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n");
      RawConnection.Response response = raw.read();
      assertThat(response.status()).isEqualTo(413);
      assertThat(response.header("connection")).isEqualTo("close");
    }
  }

  @Test
  void chunkedBodyGrowingOverTheLimitIs413() throws IOException {
    try (RawConnection raw = server.raw()) {
      raw.send("POST /files HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
      String chunk = Integer.toHexString(16 << 10) + "\r\n" + "a".repeat(16 << 10) + "\r\n";
      for (int i = 0; i < 5; i++) {
        raw.send(chunk);
      }
      RawConnection.Response response = raw.read();
      assertThat(response.status()).isEqualTo(413);
      assertThat(response.bodyText()).isEqualTo("{\"error\":\"upload exceeds the limit of 65536 bytes\",\"status\":413}");
    }
  }

  @Test
  void unsupportedExpectationIs417() throws IOException {
    try (RawConnection raw = server.raw()) {
      raw.send("POST /files HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: teapot\r\n\r\n");
      RawConnection.Response response = raw.read();
      assertThat(response.status()).isEqualTo(417);
      assertThat(response.bodyText()).isEqualTo("{\"error\":\"unsupported Expect: teapot\",\"status\":417}");
    }
  }

  @Test
  void malformedRequestLineIs400AndTheConnectionCloses() throws IOException {
    try (RawConnection raw = server.raw()) {
      raw.send("GARBAGE\r\n\r\n");
      RawConnection.Response response = raw.read();
      assertThat(response.status()).isEqualTo(400);
      assertThat(response.bodyText()).isEqualTo("{\"error\":\"malformed HTTP request\",\"status\":400}");
      assertThat(raw.isClosedByServer()).isTrue();
    }
  }

  @Test
  void requestTargetThatIsNotAPathIs400() throws IOException {
    try (RawConnection raw = server.raw()) {
      raw.send("GET example.com:80 HTTP/1.1\r\nHost: x\r\n\r\n");
      RawConnection.Response response = raw.read();
      assertThat(response.status()).isEqualTo(400);
      assertThat(response.bodyText())
          .isEqualTo("{\"error\":\"request target must be a path starting with /\",\"status\":400}");
    }
  }

  @Test
  void overlongRequestLineIs414AndOversizedHeadersAre431() throws IOException {
    try (RawConnection raw = server.raw()) {
      raw.send("GET /" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.read().status()).isEqualTo(414);
    }
    try (RawConnection raw = server.raw()) {
      raw.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(20_000) + "\r\n\r\n");
      RawConnection.Response response = raw.read();
      assertThat(response.status()).isEqualTo(431);
      assertThat(response.bodyText()).isEqualTo("{\"error\":\"request headers are too large\",\"status\":431}");
    }
  }

  @Test
  void malformedChunkedBodyIs400() throws IOException {
    try (RawConnection raw = server.raw()) {
      raw.send("POST /files HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n");
      RawConnection.Response response = raw.read();
      assertThat(response.status()).isEqualTo(400);
      assertThat(response.bodyText()).isEqualTo("{\"error\":\"malformed request body\",\"status\":400}");
    }
  }

  @Test
  void errorBodiesAreNotCached() {
    assertThat(server.get("/hello").headers().firstValue("Cache-Control")).hasValue("no-store");
  }
}
