package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.wimg.protocol.Fid;
import dev.wimg.server.tracker.TrackerConfig;
import dev.wimg.server.tracker.TrackerServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * In a cluster of two groups, a large file's chunks go to both: stored through a member of
 * group 1, some of its chunks are in group 2, each readable there by its own fid; the file reads
 * back whole and by ranges across chunks of either group from the node that took it; a resumable
 * upload is spread the same way; a delete takes the other group's chunks too. With group 2 gone, a range within one of its
 * chunks is a 500 and a whole read stops short: never a wrong byte. Runs in the trackers' JVM.
 */
class LargeFileGroupsTest {

  private static final Duration SETTLE = Duration.ofSeconds(60);
  private static final int CHUNK = 8 << 20;

  @TempDir
  Path dir;

  @Test
  void aLargeFilesChunksAreSpreadOverTheGroupsAndReadBackFromThem() throws Exception {
    try (InProcessCluster cluster = new InProcessCluster(dir)) {
      TrackerServer tracker = cluster.tracker(TrackerConfig.defaults().withDownAfter(Duration.ofMillis(500)));
      StorageNode one = cluster.node(tracker.url(), 1, "one", 0);
      StorageNode two = cluster.node(tracker.url(), 2, "two", 0);
      await().atMost(SETTLE).until(() -> writableGroups(cluster, tracker) == 2);

      byte[] file = new byte[5 * CHUNK + 12345];
      new Random(5).nextBytes(file);
      HttpResponse<String> stored = cluster.http.send(HttpRequest.newBuilder(one.url().resolve("/files?name=big.bin"))
          .POST(HttpRequest.BodyPublishers.ofByteArray(file)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(stored.statusCode()).as(stored.body()).isEqualTo(201);
      String fid = TestServer.JSON.readTree(stored.body()).get("fid").asText();
      assertThat(Fid.parse(fid).group()).isEqualTo(1);

      // the chunks: in both groups, each readable where it lies
      JsonNode chunks = TestServer.JSON.readTree(get(cluster, one.url().resolve("/" + fid + "?chunks")).body())
          .get("chunks");
      assertThat(chunks).hasSize(6);
      Set<Integer> groups = new HashSet<>();
      for (JsonNode c : chunks) {
        Fid chunk = Fid.parse(c.get("fid").asText());
        groups.add(chunk.group());
        StorageNode holder = chunk.group() == 1 ? one : two;
        HttpResponse<byte[]> bytes = get(cluster, holder.url().resolve("/" + chunk));
        assertThat(bytes.statusCode()).as("chunk %s on group %d", chunk, chunk.group()).isEqualTo(200);
        int offset = c.get("offset").asInt();
        assertThat(bytes.body()).isEqualTo(Arrays.copyOfRange(file, offset, offset + c.get("size").asInt()));
      }
      assertThat(groups).containsExactlyInAnyOrder(1, 2);

      // whole, and ranges over boundaries between chunks of both groups
      assertThat(get(cluster, one.url().resolve("/" + fid)).body()).isEqualTo(file);
      for (long[] r : new long[][] {{CHUNK - 10, CHUNK + 9}, {2L * CHUNK - 5, 4L * CHUNK + 5}, {5L * CHUNK, file.length - 1}}) {
        HttpResponse<byte[]> part = cluster.http.send(HttpRequest.newBuilder(one.url().resolve("/" + fid))
            .header("Range", "bytes=" + r[0] + "-" + r[1]).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(part.statusCode()).isEqualTo(206);
        assertThat(part.body()).isEqualTo(Arrays.copyOfRange(file, (int) r[0], (int) r[1] + 1));
      }

      // a resumable upload's chunks are spread too
      byte[] small = Arrays.copyOf(file, 3 * CHUNK);
      HttpResponse<String> created = cluster.http.send(HttpRequest.newBuilder(one.url().resolve("/uploads/"))
          .header("Tus-Resumable", "1.0.0").header("Upload-Length", Integer.toString(small.length))
          .header("Content-Type", "application/offset+octet-stream")
          .POST(HttpRequest.BodyPublishers.ofByteArray(small)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      String tusFid = created.headers().firstValue("X-Wimg-Fid").orElseThrow();
      Set<Integer> tusGroups = new HashSet<>();
      for (JsonNode c : TestServer.JSON.readTree(get(cluster, one.url().resolve("/" + tusFid + "?chunks")).body())
          .get("chunks")) {
        tusGroups.add(Fid.parse(c.get("fid").asText()).group());
      }
      assertThat(tusGroups).containsExactlyInAnyOrder(1, 2);
      assertThat(get(cluster, one.url().resolve("/" + tusFid)).body()).isEqualTo(small);

      // a delete takes every chunk, the other group's too
      HttpResponse<String> deleted = cluster.http.send(HttpRequest.newBuilder(one.url().resolve("/" + tusFid))
          .DELETE().build(), HttpResponse.BodyHandlers.ofString());
      assertThat(deleted.statusCode()).as(deleted.body()).isIn(200, 204);
      for (JsonNode c : chunks) {
        // (the first file's chunks are still there)
        Fid chunk = Fid.parse(c.get("fid").asText());
        assertThat(get(cluster, (chunk.group() == 1 ? one : two).url().resolve("/" + chunk)).statusCode()).isEqualTo(200);
      }
      HttpResponse<String> deletedBig = cluster.http.send(HttpRequest.newBuilder(one.url().resolve("/" + fid))
          .DELETE().build(), HttpResponse.BodyHandlers.ofString());
      assertThat(deletedBig.statusCode()).as(deletedBig.body()).isIn(200, 204);
      for (JsonNode c : chunks) {
        Fid chunk = Fid.parse(c.get("fid").asText());
        assertThat(get(cluster, (chunk.group() == 1 ? one : two).url().resolve("/" + chunk)).statusCode())
            .as("chunk %s after the delete", chunk).isEqualTo(404);
      }

      // group 2 gone: its chunks cannot be read, and no wrong byte is sent instead
      HttpResponse<String> again = cluster.http.send(HttpRequest.newBuilder(one.url().resolve("/files"))
          .POST(HttpRequest.BodyPublishers.ofByteArray(file)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(again.statusCode()).as(again.body()).isEqualTo(201);
      String kept = TestServer.JSON.readTree(again.body()).get("fid").asText();
      JsonNode keptChunks = TestServer.JSON.readTree(get(cluster, one.url().resolve("/" + kept + "?chunks")).body())
          .get("chunks");
      JsonNode remote = null;
      for (JsonNode c : keptChunks) {
        if (Fid.parse(c.get("fid").asText()).group() == 2) {
          remote = c;
          break;
        }
      }
      assertThat(remote).as("a chunk in group 2").isNotNull();
      cluster.stop(two);
      long from = remote.get("offset").asLong();
      HttpResponse<String> missing = cluster.http.send(HttpRequest.newBuilder(one.url().resolve("/" + kept))
          .header("Range", "bytes=" + from + "-" + (from + 99)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(missing.statusCode()).isEqualTo(500);
      assertThat(missing.body()).startsWith("{\"error\":");
      // the whole file: a 500 if its first chunk is group 2's, else a body cut where that chunk starts
      try (java.io.InputStream in = cluster.http.send(HttpRequest.newBuilder(one.url().resolve("/" + kept)).build(),
          HttpResponse.BodyHandlers.ofInputStream()).body()) {
        byte[] got = new byte[file.length];
        int n = 0;
        try {
          for (int r; n < got.length && (r = in.read(got, n, got.length - n)) > 0; ) {
            n += r;
          }
        } catch (java.io.IOException closedEarly) {
          // the body stopped short of its Content-Length: what a client is meant to see
        }
        assertThat(n).isLessThan(file.length);
        if (Fid.parse(keptChunks.get(0).get("fid").asText()).group() == 1) {
          assertThat(Arrays.copyOf(got, n)).isEqualTo(Arrays.copyOf(file, n));
        }
      }
    }
  }

  private static int writableGroups(InProcessCluster cluster, TrackerServer tracker) throws Exception {
    int n = 0;
    for (JsonNode g : TestServer.JSON.readTree(get(cluster, tracker.url().resolve("/cluster")).body()).get("groups")) {
      n += g.get("writable").asBoolean() ? 1 : 0;
    }
    return n;
  }

  private static HttpResponse<byte[]> get(InProcessCluster cluster, URI uri) throws Exception {
    return cluster.http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray());
  }
}
