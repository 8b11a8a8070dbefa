package dev.wimg.server;

import static dev.wimg.server.TestServer.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.wimg.server.internal.http.ServerTuning;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads of needles not in memory run on the blocking pool and answer on the event loop. Tests
 * cannot evict pages, so this server sends every read there.
 */
@ExtendWith(NettyLeakCheck.class)
class BlockingPoolReadTest {

  @TempDir
  Path dir;

  @Test
  void readsOnTheBlockingPoolAnswerLikeInlineReads() throws IOException {
    ServerTuning tuning = ServerTuning.defaults().withResidentReadsInline(false).withReadPool(2, 16);
    try (TestServer server = TestServer.start(TestServer.config(dir), tuning)) {
      byte[] data = randomBytes(100_000, 1);
      JsonNode up = server.upload(data, "image/png", null);
      String url = up.get("url").asText();

      assertThat(server.get(url).body()).isEqualTo(data);
      HttpResponse<byte[]> part = server.get(url, "Range", "bytes=10-19");
      assertThat(part.statusCode()).isEqualTo(206);
      assertThat(part.body()).isEqualTo(Arrays.copyOfRange(data, 10, 20));
      assertThat(server.get(url, "If-None-Match", up.get("etag").asText()).statusCode()).isEqualTo(304);
      assertThat(server.head(url).headers().firstValue("Content-Length")).hasValue("100000");
      assertThat(server.delete(url).statusCode()).isEqualTo(204);
      assertThat(server.get(url).statusCode()).isEqualTo(404);
      try (RawConnection raw = server.raw()) {
        String get = "GET " + server.upload(data, null, null).get("url").asText() + " HTTP/1.1\r\nHost: x\r\n\r\n";
        raw.send(get + get + get);
        for (int i = 0; i < 3; i++) {
          assertThat(raw.read().body()).isEqualTo(data);
        }
      }
    }
  }
}
