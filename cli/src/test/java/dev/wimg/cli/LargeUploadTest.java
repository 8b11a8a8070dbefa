package dev.wimg.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.testsupport.RandomFiles;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code wimg upload} of a large file: sent in parallel parts (tus), the client process killed
 * with SIGKILL half-way, then {@code wimg upload --resume}: only what the server lacks is sent again
 * (fewer bytes reach the server than the file holds) and the file reads back byte-identical, by
 * curl-like GET and by {@code wimg download} (parallel ranges).
 */
class LargeUploadTest {

  private static final long SIZE = 200L << 20;
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  private static long piecesDone(Path state) {
    try {
      long done = 0;
      for (JsonNode p : JSON.readTree(Files.readAllBytes(state)).path("pieces")) {
        done += p.path("done").asBoolean() ? p.path("size").asLong() : 0;
      }
      return done;
    } catch (Exception e) {
      return 0; // not written yet, or being replaced
    }
  }

  @Test
  void aLargeUploadKilledHalfWayIsResumedAndReadsBackIdentical() throws Exception {
    Path file = dir.resolve("big.bin");
    String expected = RandomFiles.write(file, SIZE, 7);
    Path state = dir.resolve("big.bin.wimg-upload");
    try (ChildServer server = ChildServer.start(dir, dir.resolve("server.log"), "--data", dir.resolve("data").toString());
         HttpClient http = HttpClient.newHttpClient()) {
      String url = server.url().toString();
      String java = ProcessHandle.current().info().command().orElseThrow();
      Process client = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
          Main.class.getName(), "upload", "--server", url, file.toString())
          .redirectErrorStream(true).redirectOutput(dir.resolve("client.log").toFile()).start();
      await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(20))
          .until(() -> piecesDone(state) >= SIZE / 3 || !client.isAlive());
      assertThat(client.isAlive()).as("the client still uploading: %s", Files.readString(dir.resolve("client.log")))
          .isTrue();
      client.destroyForcibly(); // SIGKILL
      assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
      long held = piecesDone(state);
      assertThat(held).isPositive().isLessThan(SIZE);

      // the killed client's bytes still in the server's socket buffers are read (and counted) until
      // its connections close: only then is the count taken
      await().atMost(Duration.ofMinutes(1)).until(() -> NodeMetrics.openConnections(http, server.url()) <= 1);
      long before = NodeMetrics.receivedBytes(http, server.url());
      CliRun resumed = CliRun.run(Map.of(), dir, "upload", "--resume", "--json", "--server", url, file.toString());
      assertThat(resumed.exitCode()).as(resumed.toString()).isZero();
      long sentAgain = NodeMetrics.receivedBytes(http, server.url()) - before;
      assertThat(sentAgain).as("bytes the resumed upload sent (%d of the file were held)", held)
          .isLessThanOrEqualTo(SIZE - held + (1 << 20));
      assertThat(state).doesNotExist();
      String fid = JSON.readTree(resumed.stdout()).get("fid").asText();

      HttpResponse<java.io.InputStream> got = http.send(HttpRequest.newBuilder(server.url().resolve("/" + fid)).build(),
          HttpResponse.BodyHandlers.ofInputStream());
      assertThat(got.statusCode()).isEqualTo(200);
      assertThat(RandomFiles.digest(got.body())).isEqualTo(new RandomFiles.Digest(expected, SIZE));
      assertThat(got.headers().firstValue("Content-Disposition").orElseThrow()).contains("big.bin");

      // and down again with the CLI: parallel ranges written in place
      Path back = dir.resolve("back.bin");
      CliRun download = CliRun.run(Map.of(), dir, "download", "--server", url, "-o", back.toString(), fid);
      assertThat(download.exitCode()).as(download.toString()).isZero();
      assertThat(RandomFiles.digest(Files.newInputStream(back))).isEqualTo(new RandomFiles.Digest(expected, SIZE));
    }
  }
}
