package dev.wimg.server;

import static dev.wimg.server.TestServer.json;
import static dev.wimg.server.TestServer.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.wimg.storage.FsyncPolicy;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(NettyLeakCheck.class)
class StatusAndMetricsTest {

  @TempDir
  Path dir;

  @Test
  void statusReportsVersionUptimeVolumesNeedlesSpaceAndEngine() throws IOException {
    ServerConfig config = TestServer.config(dir);
    config = config.withStore(config.store().withFsyncPolicy(FsyncPolicy.ALWAYS));
    try (TestServer server = TestServer.start(config)) {
      server.upload(randomBytes(1000, 1), null, null);
      server.upload(randomBytes(2000, 2), null, null);
      String deleted = server.upload(randomBytes(10, 3), null, null).get("url").asText();
      assertThat(server.delete(deleted).statusCode()).isEqualTo(204);

      HttpResponse<byte[]> response = server.get("/status");

      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
      assertThat(response.headers().firstValue("Cache-Control")).hasValue("no-store");
      JsonNode status = json(response);
      assertThat(status.get("status").asText()).isEqualTo("ok");
      assertThat(status.get("version").asText()).isEqualTo("0.1.0-SNAPSHOT");
      assertThat(status.get("uptimeSeconds").asLong()).isNotNegative();
      assertThat(status.get("needles").asLong()).isEqualTo(2);
      assertThat(status.get("usedBytes").asLong()).isGreaterThan(3000);
      assertThat(status.get("freeBytes").asLong()).isPositive();
      assertThat(status.get("fsync").asText()).isEqualTo("always");
      assertThat(status.get("volumes")).hasSize(1);
      JsonNode volume = status.get("volumes").get(0);
      assertThat(volume.get("id").asInt()).isEqualTo(1);
      assertThat(volume.get("liveNeedles").asLong()).isEqualTo(2);
      assertThat(volume.get("deletedNeedles").asLong()).isEqualTo(1);
      JsonNode engine = status.get("engine");
      assertThat(engine.get("group").asInt()).isEqualTo(1);
      assertThat(engine.get("maxUploadBytes").asLong()).isEqualTo(64L << 30);
      assertThat(engine.get("transport").asText()).isIn("epoll", "nio");
      assertThat(engine.get("writeKeyRequired").asBoolean()).isFalse();
      assertThat(server.head("/status").body()).isEmpty();
    }
  }

  @Test
  void metricsExposeRequestCountsLatencyTrafficAndStoreGauges() throws IOException {
    try (TestServer server = TestServer.start(dir)) {
      String url = server.upload(randomBytes(5000, 4), null, null).get("url").asText();
      server.get(url);
      server.get(url);
      server.get("/not-a-fid");

      HttpResponse<byte[]> response = server.get("/metrics");

      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
      String text = new String(response.body(), StandardCharsets.UTF_8);
      assertThat(sample(text, "wimg_http_requests_total{method=\"GET\",status=\"200\"}")).isEqualTo(2);
      assertThat(sample(text, "wimg_http_requests_total{method=\"GET\",status=\"400\"}")).isEqualTo(1);
      assertThat(sample(text, "wimg_http_requests_total{method=\"POST\",status=\"201\"}")).isEqualTo(1);
      assertThat(sample(text, "wimg_http_request_duration_seconds_count{method=\"GET\"}")).isEqualTo(3);
      assertThat(sample(text, "wimg_http_received_bytes_total")).isGreaterThan(5000);
      assertThat(sample(text, "wimg_http_sent_bytes_total")).isGreaterThan(10_000);
      assertThat(sample(text, "wimg_store_needles")).isEqualTo(1);
      assertThat(sample(text, "wimg_store_volumes")).isEqualTo(1);
      assertThat(sample(text, "wimg_store_used_bytes")).isGreaterThan(5000);
      assertThat(sample(text, "wimg_store_free_bytes")).isPositive();
      assertThat(sample(text, "wimg_upload_buffered_bytes")).isZero();
      assertThat(sample(text, "wimg_http_connections")).isPositive();
      assertThat(sample(text, "wimg_store_garbage_bytes")).isZero();
      assertThat(sample(text, "wimg_read_queue")).isZero();
      assertThat(sample(text, "wimg_http_request_duration_seconds_max{method=\"GET\"}")).isPositive();
      assertThat(text).contains("\njvm_memory_used_bytes{", "\njvm_threads_live_threads ", "\nprocess_uptime_seconds ",
          "\nprocess_cpu_usage ", "\nsystem_cpu_count ");
    }
  }

  static double sample(String text, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
    assertThat(m.find()).as(series + " in\n" + text).isTrue();
    return Double.parseDouble(m.group(1));
  }
}
