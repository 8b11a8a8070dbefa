package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.wimg.testsupport.RequiresLibvips;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** libvips' own memory (its tracked pixel buffers) is shown in /status and /metrics. */
@RequiresLibvips
@ExtendWith(NettyLeakCheck.class)
class NativeMemoryStatusTest {

  @TempDir
  Path dir;
  TestServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void statusAndMetricsShowTheMemoryLibvipsHeldForATransform() throws IOException {
    server = TestServer.start(TestServer.config(dir));
    String fid = server.upload(TransformTest.picture("painting.jpg"), null, "painting.jpg").get("fid").asText();
    assertThat(server.get("/" + fid + "?w=200&blur=2").statusCode()).isEqualTo(200);

    JsonNode memory = TestServer.json(server.get("/status")).get("imaging").get("nativeMemory");
    assertThat(memory).as("imaging.nativeMemory in /status").isNotNull();
    // A transform's region buffers come from libvips' tracked allocator: the high-water mark
    // has seen them, whatever is still held now.
    assertThat(memory.get("highWaterBytes").asLong()).isPositive();
    assertThat(memory.get("bytes").asLong()).isBetween(0L, memory.get("highWaterBytes").asLong());
    assertThat(memory.get("allocations").asInt()).isNotNegative();

    String metrics = new String(server.get("/metrics").body(), StandardCharsets.UTF_8);
    assertThat(metrics).contains("\nwimg_imaging_native_memory_bytes ")
        .containsPattern("\nwimg_imaging_native_memory_high_water_bytes [1-9][0-9.E]*\n");
  }
}
