package dev.wimg.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.client.UploadResult;
import dev.wimg.client.WimgClient;
import dev.wimg.testsupport.RandomFiles;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A large download from a group of two members, each a real child process: the client fetches
 * ranges from both, a member frozen with SIGSTOP during the transfer loses its share
 * to the other, a chunk damaged on one member's disk still arrives right (from the other, or
 * repaired), and a download that broke off resumes from the chunks it holds intact.
 */
class GroupDownloadTest {

  private static final long SIZE = 64L << 20;
  private static final Duration SETTLE = Duration.ofSeconds(90);
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();
  private final List<ChildServer> children = new ArrayList<>();
  private URI tracker;
  private ChildServer a;
  private ChildServer b;
  private Path original;
  private String sha256;
  private String fid;

  @BeforeEach
  void groupOfTwoHoldingALargeFile() throws Exception {
    tracker = child("tracker.log", "tracker", "--port", Integer.toString(NodeMetrics.freePort()), "--down-after", "2000",
        "--raft-data", dir.resolve("tracker").toString(), "--raft", "127.0.0.1:" + NodeMetrics.freePort()).url();
    a = member("a");
    b = member("b");
    await().atMost(SETTLE).until(() -> serving(2));
    original = dir.resolve("original.bin");
    sha256 = RandomFiles.write(original, SIZE, 11);
    try (WimgClient client = client(true)) {
      UploadResult stored = client.uploadResumable(original, null, null);
      fid = stored.fid();
    }
    // the upload chose its member by a probe: each was sent a part of 1 MiB, deleted at once (204)
    assertThat(NodeMetrics.responses(http, a.url(), "DELETE", 204)).as("probe parts deleted on a").isEqualTo(1);
    assertThat(NodeMetrics.responses(http, b.url(), "DELETE", 204)).as("probe parts deleted on b").isEqualTo(1);
  }

  @AfterEach
  void stop() {
    children.forEach(ChildServer::close);
    http.close();
  }

  @Test
  void bothMembersSendTheirShareAndABrokenOffDownloadResumes() throws Exception {
    long sentA = NodeMetrics.sentBytes(http, a.url());
    long sentB = NodeMetrics.sentBytes(http, b.url());
    Path target = dir.resolve("copy.bin");
    try (WimgClient client = client(true)) {
      assertThat(client.download(fid, target)).isEqualTo(SIZE);
    }
    assertThat(sha(target)).isEqualTo(sha256);
    // each member sent a good part of the file (the probe alone is 1 MiB)
    assertThat(NodeMetrics.sentBytes(http, a.url()) - sentA).as("bytes a sent").isGreaterThan(SIZE / 8);
    assertThat(NodeMetrics.sentBytes(http, b.url()) - sentB).as("bytes b sent").isGreaterThan(SIZE / 8);

    // broken off once a third has arrived: the part file is kept, the next download keeps what it holds
    Path again = dir.resolve("again.bin");
    try (WimgClient client = client(true)) {
      assertThatThrownBy(() -> client.download(fid, again, (done, total) -> {
        if (done >= total / 3) {
          throw new IllegalStateException("the listener breaks the download off");
        }
      })).hasMessageContaining("breaks the download off");
      assertThat(again).doesNotExist();
      assertThat(dir.resolve(".again.bin.wimg-part")).exists();
      assertThat(client.download(fid, again)).isEqualTo(SIZE);
      assertThat(client.lastResumedBytes()).as("bytes kept from the part file")
          .isGreaterThanOrEqualTo(SIZE / 3).isLessThan(SIZE);
    }
    assertThat(sha(again)).isEqualTo(sha256);
    assertThat(dir.resolve(".again.bin.wimg-part")).doesNotExist();
  }

  @Test
  void aMemberFrozenDuringTheTransferLosesItsShareToItsPeer() throws Exception {
    Path target = dir.resolve("copy.bin");
    long started;
    try (WimgClient client = client(true)) {
      boolean[] frozen = {false};
      started = System.nanoTime();
      try {
        client.download(fid, target, (done, total) -> {
          if (!frozen[0] && done >= total / 4) {
            frozen[0] = true;
            signal(b, "STOP"); // b's ranges under way now stall
          }
        });
      } finally {
        signal(b, "CONT");
      }
      assertThat(frozen[0]).isTrue();
    }
    // the end game fetched b's stalled ranges from a: no wait for the stall timeout (10 s)
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
    assertThat(sha(target)).isEqualTo(sha256);
  }

  @Test
  void aChunkDamagedOnOneMembersDiskNeverReachesTheFile() throws Exception {
    // one byte flipped in the middle of b's copy of the file's third chunk
    byte[] marker = new byte[64];
    long at = (8L << 20) * 2 + (4L << 20);
    try (FileChannel in = FileChannel.open(original)) {
      in.read(ByteBuffer.wrap(marker), at);
    }
    boolean flipped = false;
    try (var volumes = Files.list(dir.resolve("b"))) {
      for (Path volume : volumes.filter(p -> p.toString().endsWith(".dat")).toList()) {
        long found = CliEndToEndTest.indexOf(Files.readAllBytes(volume), marker);
        if (found >= 0) {
          try (FileChannel ch = FileChannel.open(volume, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            ch.read(one, found + 10);
            ch.write(ByteBuffer.wrap(new byte[] {(byte) (one.get(0) ^ 0x01)}), found + 10);
          }
          flipped = true;
        }
      }
    }
    assertThat(flipped).as("the chunk's bytes found in b's volumes").isTrue();
    for (boolean adaptive : new boolean[] {true, false}) {
      Path target = dir.resolve("copy-" + adaptive + ".bin");
      try (WimgClient client = client(adaptive)) {
        assertThat(client.download(fid, target)).isEqualTo(SIZE);
      }
      assertThat(sha(target)).as("adaptive %s", adaptive).isEqualTo(sha256);
    }
  }

  private WimgClient client(boolean adaptive) {
    return WimgClient.builder(tracker).clusterViewTtl(Duration.ZERO).adaptiveTransfers(adaptive).build();
  }

  private ChildServer child(String log, String... args) throws Exception {
    ChildServer child = ChildServer.command(dir, dir.resolve(log), args);
    children.add(child);
    return child;
  }

  private ChildServer member(String data) throws Exception {
    return child(data + ".log", "storage", "--group", "1", "--tracker", tracker.toString(), "--port", "0",
        "--data", dir.resolve(data).toString(), "--reserve", "0");
  }

  private boolean serving(int members) throws Exception {
    JsonNode view = JSON.readTree(http.send(HttpRequest.newBuilder(tracker.resolve("/cluster")).build(),
        HttpResponse.BodyHandlers.ofString()).body());
    for (JsonNode g : view.path("groups")) {
      long n = 0;
      for (JsonNode m : g.path("members")) {
        n += m.path("state").asText().equals("serving") ? 1 : 0;
      }
      if (n == members && g.path("writable").asBoolean()) {
        return true;
      }
    }
    return false;
  }

  private static String sha(Path file) throws IOException {
    return RandomFiles.digest(Files.newInputStream(file)).sha256();
  }

  private static void signal(ChildServer child, String signal) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(child.pid())).start();
      assertThat(kill.waitFor()).as("kill -%s %d", signal, child.pid()).isZero();
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException("kill -" + signal, e);
    }
  }
}
