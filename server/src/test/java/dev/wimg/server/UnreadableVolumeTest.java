package dev.wimg.server;

import static dev.wimg.server.StatusAndMetricsTest.sample;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A GET of a file whose volume cannot be read. Without root the fault is made by cutting the
 * volume's {@code .dat} short behind the server's back: the mapped pages past the new end then
 * fault ({@code SIGBUS}) as they do on a disk read error.
 */
class UnreadableVolumeTest {

  @TempDir
  Path dir;

  @Test
  void fileOnAnUnreadableVolumeAnswers500AndTheVolumeIsReportedAsNeedingACheck() throws Exception {
    ServerConfig config = TestServer.config(dir);
    config = config.withStore(config.store().withVolumeSizeLimit(1 << 20));
    try (TestServer server = TestServer.start(config)) {
      List<String> first = new ArrayList<>();
      List<String> second = new ArrayList<>();
      for (int i = 0; second.isEmpty(); i++) {
        String fid = server.upload(TestServer.randomBytes(100_000, i), "application/octet-stream", null)
            .get("fid").asText();
        (fid.startsWith("1-1,") ? first : second).add(fid);
      }
      try (FileChannel dat = FileChannel.open(dir.resolve("1-1.dat"), StandardOpenOption.WRITE)) {
        dat.truncate(4096);
      }

      try (RawConnection c = server.raw()) {
        c.send("GET /" + first.get(2) + " HTTP/1.1\r\nHost: x\r\n\r\n");
        RawConnection.Response failed = c.read(); // fails the test after a bounded wait, never hangs
        assertThat(failed.status()).isEqualTo(500);
        assertThat(failed.header("Content-Type")).isEqualTo("application/json");
        assertThat(failed.bodyText())
            .isEqualTo("{\"error\":\"stored data could not be read from disk\",\"status\":500}");

        // The connection goes on to the next request: the failed one is over.
        c.send("GET /" + second.get(0) + " HTTP/1.1\r\nHost: x\r\n\r\n");
        RawConnection.Response next = c.read();
        assertThat(next.status()).isEqualTo(200);
        assertThat(next.body()).isEqualTo(TestServer.randomBytes(100_000, first.size()));
      }
      try (RawConnection fresh = server.raw()) {
        fresh.send("GET /" + first.get(0) + " HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(fresh.read().status()).isEqualTo(500);
        fresh.send("GET /" + second.get(0) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertThat(fresh.read().status()).isEqualTo(200);
      }

      JsonNode volumes = TestServer.json(server.get("/status")).get("volumes");
      assertThat(volumes.get(0).get("id").asInt()).isEqualTo(1);
      assertThat(volumes.get(0).get("needsCheck").asBoolean()).isTrue();
      assertThat(volumes.get(0).get("readErrors").asLong()).isEqualTo(2);
      assertThat(volumes.get(1).get("needsCheck").asBoolean()).isFalse();
      assertThat(volumes.get(1).get("readErrors").asLong()).isZero();
      String metrics = new String(server.get("/metrics").body(), StandardCharsets.UTF_8);
      assertThat(sample(metrics, "wimg_store_read_errors")).isEqualTo(2);
      assertThat(sample(metrics, "wimg_store_volumes_needing_check")).isEqualTo(1);
      assertThat(sample(metrics, "wimg_http_requests_total{method=\"GET\",status=\"500\"}")).isEqualTo(2);
      // Every request is over once answered: the /metrics one ends when its response is written.
      long deadline = System.nanoTime() + 20_000_000_000L;
      while (server.server.requestsInFlight() > 0 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertThat(server.server.requestsInFlight()).isZero();
    }
  }
}
