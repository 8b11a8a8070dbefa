package dev.wimg.server;

import static dev.wimg.server.TestServer.json;
import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.server.internal.http.ServerTuning;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The memory budget shared by all in-flight uploads (256 MiB by default; 100 KiB here). */
@ExtendWith(NettyLeakCheck.class)
class UploadBudgetTest {

  @TempDir
  Path dir;

  @Test
  void uploadThatDoesNotFitTheBudgetIs503WithRetryAfterUntilMemoryIsFreed() throws IOException {
    ServerTuning tuning = ServerTuning.defaults().withUploadBudgetBytes(100 << 10);
    try (TestServer server = TestServer.start(TestServer.config(dir), tuning);
         RawConnection holder = server.raw()) {
      // The 100 Continue proves that the first upload's 80 KiB are reserved.
      holder.send("POST /files HTTP/1.1\r\nHost: x\r\nContent-Length: 81920\r\nExpect: 100-continue\r\n\r\n");
      assertThat(holder.read().status()).isEqualTo(100);

      HttpResponse<byte[]> refused = server.postRaw(new byte[50 << 10], null, null);

      assertThat(refused.statusCode()).isEqualTo(503);
      assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
      assertThat(json(refused).get("error").asText()).isEqualTo("server is busy with other uploads; retry later");

      holder.send(new byte[81920]);
      assertThat(holder.read().status()).isEqualTo(201);
      assertThat(server.postRaw(new byte[50 << 10], null, null).statusCode()).isEqualTo(201);
    }
  }

  @Test
  void chunkedUploadsReserveAsTheyGrow() throws IOException {
    ServerTuning tuning = ServerTuning.defaults().withUploadBudgetBytes(100 << 10);
    try (TestServer server = TestServer.start(TestServer.config(dir), tuning);
         RawConnection holder = server.raw();
         RawConnection chunked = server.raw()) {
      holder.send("POST /files HTTP/1.1\r\nHost: x\r\nContent-Length: 61440\r\nExpect: 100-continue\r\n\r\n");
      assertThat(holder.read().status()).isEqualTo(100);
      chunked.send("POST /files HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
      String chunk = Integer.toHexString(20 << 10) + "\r\n" + "z".repeat(20 << 10) + "\r\n";
      for (int i = 0; i < 3; i++) {
        chunked.send(chunk);
      }
      RawConnection.Response response = chunked.read();
      assertThat(response.status()).isEqualTo(503);
      assertThat(response.header("retry-after")).isEqualTo("1");
    }
  }

  @Test
  void anUploadLargerThanTheWholeBudgetIs413NotARetry() throws IOException {
    ServerTuning tuning = ServerTuning.defaults().withUploadBudgetBytes(100 << 10);
    try (TestServer server = TestServer.start(TestServer.config(dir), tuning)) {
      HttpResponse<byte[]> declared = server.postRaw(new byte[(100 << 10) + 1], null, null);
      assertThat(declared.statusCode()).isEqualTo(413);
      assertThat(json(declared).get("error").asText())
          .isEqualTo("upload of 102401 bytes exceeds the limit of 102400 bytes");
      try (RawConnection chunked = server.raw()) {
        chunked.send("POST /files HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        String chunk = Integer.toHexString(30 << 10) + "\r\n" + "z".repeat(30 << 10) + "\r\n";
        for (int i = 0; i < 4; i++) {
          chunked.send(chunk);
        }
        assertThat(chunked.read().status()).isEqualTo(413);
      }
      assertThat(server.postRaw(new byte[100 << 10], null, null).statusCode()).as("exactly the budget").isEqualTo(201);
    }
  }
}
