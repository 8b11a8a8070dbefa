package dev.wimg.server;

import static dev.wimg.server.TestServer.json;
import static dev.wimg.server.TestServer.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(NettyLeakCheck.class)
class WriteAuthTest {

  static final String KEY = "s3cret-key";

  @TempDir
  static Path dir;
  static TestServer server;

  @BeforeAll
  static void start() throws IOException {
    server = TestServer.start(TestServer.config(dir).withWriteKey(KEY));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static void assertUnauthorized(HttpResponse<byte[]> response) {
    assertThat(response.statusCode()).isEqualTo(401);
    assertThat(response.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"wimg\"");
    assertThat(json(response).get("error").asText()).isEqualTo("a write key is required: send Authorization: Bearer <key>");
  }

  @Test
  void uploadWithoutAKeyIs401WithABearerChallenge() {
    assertUnauthorized(server.postRaw(randomBytes(10, 1), null, null));
  }

  @Test
  void uploadWithAWrongKeyOrSchemeIs401() {
    assertUnauthorized(server.postRaw(randomBytes(10, 2), null, null, "Authorization", "Bearer wrong"));
    assertUnauthorized(server.postRaw(randomBytes(10, 2), null, null, "Authorization", "Bearer " + KEY + "x"));
    assertUnauthorized(server.postRaw(randomBytes(10, 2), null, null, "Authorization", "Basic " + KEY));
  }

  @Test
  void uploadAndDeleteWithTheKeySucceedAndReadsNeedNoKey() {
    HttpResponse<byte[]> up = server.postRaw(randomBytes(10, 3), null, null, "Authorization", "Bearer " + KEY);
    assertThat(up.statusCode()).isEqualTo(201);
    String url = json(up).get("url").asText();
    assertThat(server.get(url).statusCode()).isEqualTo(200);
    assertThat(server.get("/status").statusCode()).isEqualTo(200);

    assertUnauthorized(server.delete(url));
    assertThat(server.get(url).statusCode()).isEqualTo(200);
    assertThat(server.delete(url, "Authorization", "bearer " + KEY).statusCode()).isEqualTo(204);
  }

  @Test
  void deleteWithoutAKeyIs401BeforeThePathIsChecked() {
    assertUnauthorized(server.delete("/not-a-fid"));
  }

  @Test
  void expectContinueWithoutAKeyIs401WithoutReadingTheBody() throws IOException {
    try (RawConnection raw = server.raw()) {
      raw.send("POST /files HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n");
      RawConnection.Response response = raw.read();
      assertThat(response.status()).isEqualTo(401);
      assertThat(response.header("connection")).isEqualTo("close");
    }
  }

  @Test
  void nonLoopbackBindWithoutAKeyIsRefused(@TempDir Path other) {
    ServerConfig open = TestServer.config(other).withBind("0.0.0.0");
    assertThatThrownBy(() -> WimgServer.start(open))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("refusing to listen on 0.0.0.0 without a write key");
    assertThat(other).isEmptyDirectory();
  }

  @Test
  void nonLoopbackBindWithAKeyStarts(@TempDir Path other) throws IOException {
    try (WimgServer started = WimgServer.start(TestServer.config(other).withBind("0.0.0.0").withWriteKey(KEY))) {
      assertThat(started.port()).isPositive();
    }
    assertThat(Files.exists(other)).isTrue();
  }
}
