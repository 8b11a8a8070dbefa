package dev.wimg.server;

import static dev.wimg.server.TestServer.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.protocol.Fid;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(NettyLeakCheck.class)
class DeleteTest {

  @TempDir
  static Path dir;
  static TestServer server;

  @BeforeAll
  static void start() throws IOException {
    server = TestServer.start(dir);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void deleteIs204ThenGetIs404AndASecondDeleteIs404() {
    String url = server.upload(randomBytes(100, 1), "image/png", null).get("url").asText();

    HttpResponse<byte[]> deleted = server.delete(url);

    assertThat(deleted.statusCode()).isEqualTo(204);
    assertThat(deleted.body()).isEmpty();
    assertThat(deleted.headers().firstValue("Content-Length")).isEmpty();
    assertThat(server.get(url).statusCode()).isEqualTo(404);
    assertThat(server.head(url).statusCode()).isEqualTo(404);
    assertThat(server.delete(url).statusCode()).isEqualTo(404);
  }

  @Test
  void deleteUnderANamePathDeletesTheFile() {
    String url = server.upload(randomBytes(10, 2), null, null).get("url").asText();
    assertThat(server.delete(url + "/x.jpg").statusCode()).isEqualTo(204);
    assertThat(server.get(url).statusCode()).isEqualTo(404);
  }

  @Test
  void deleteWithAWrongCookieIs404AndLeavesTheFile() {
    String fid = server.upload(randomBytes(10, 3), null, null).get("fid").asText();
    Fid real = Fid.parse(fid);
    Fid forged = new Fid(real.group(), real.volume(), real.key(), real.cookie() ^ 1);

    assertThat(server.delete("/" + forged).statusCode()).isEqualTo(404);
    assertThat(server.get("/" + fid).statusCode()).isEqualTo(200);
  }
}
