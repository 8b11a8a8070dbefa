package dev.wimg.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.client.UploadResult;
import dev.wimg.client.WimgClient;
import dev.wimg.protocol.Fid;
import dev.wimg.testsupport.RandomFiles;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A large file whose chunks lie in two groups (a tracker and one member per group, each a child
 * process) comes down through the Java client from both groups directly: each group's member
 * sends about its own chunks, the node that holds the manifest does not relay the other group's.
 */
class SpreadDownloadTest {

  private static final long SIZE = 48L << 20;
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final List<ChildServer> children = new ArrayList<>();

  @AfterEach
  void stop() {
    children.forEach(ChildServer::close);
    http.close();
  }

  @Test
  void aFileSpreadOverTwoGroupsComesFromEachGroupDirectly() throws Exception {
    URI tracker = child("tracker.log", "tracker", "--port", Integer.toString(NodeMetrics.freePort()), "--down-after", "2000",
        "--raft-data", dir.resolve("tracker").toString(), "--raft", "127.0.0.1:" + NodeMetrics.freePort()).url();
    Map<Integer, ChildServer> members = new HashMap<>();
    for (int group = 1; group <= 2; group++) {
      members.put(group, child("g" + group + ".log", "storage", "--group", Integer.toString(group), "--tracker",
          tracker.toString(), "--port", "0", "--data", dir.resolve("g" + group).toString(), "--reserve", "0"));
    }
    await().atMost(Duration.ofSeconds(90)).until(() -> writableGroups(tracker) == 2);
    Path original = dir.resolve("original.bin");
    String sha = RandomFiles.write(original, SIZE, 21);

    try (WimgClient client = WimgClient.builder(tracker).clusterViewTtl(Duration.ZERO).build()) {
      // the storage nodes learn the other group from the tracker's view: until then chunks stay home
      String fid = null;
      Map<Integer, Long> bytesByGroup = new HashMap<>();
      for (int attempt = 0; attempt < 20 && bytesByGroup.size() < 2; attempt++) {
        UploadResult stored = client.uploadResumable(original, null, null);
        fid = stored.fid();
        bytesByGroup.clear();
        URI holder = members.get(Fid.parse(fid).group()).url();
        for (JsonNode c : JSON.readTree(get(holder.resolve("/" + fid + "?chunks"))).get("chunks")) {
          bytesByGroup.merge(Fid.parse(c.get("fid").asText()).group(), c.get("size").asLong(), Long::sum);
        }
      }
      assertThat(bytesByGroup).as("bytes of the file's chunks per group").containsOnlyKeys(1, 2);
      int home = Fid.parse(fid).group();
      int other = 3 - home;
      long homeSent = NodeMetrics.sentBytes(http, members.get(home).url());
      long otherSent = NodeMetrics.sentBytes(http, members.get(other).url());

      Path copy = dir.resolve("copy.bin");
      assertThat(client.download(fid, copy)).isEqualTo(SIZE);
      assertThat(RandomFiles.digest(Files.newInputStream(copy)).sha256()).isEqualTo(sha);
      long fromHome = NodeMetrics.sentBytes(http, members.get(home).url()) - homeSent;
      long fromOther = NodeMetrics.sentBytes(http, members.get(other).url()) - otherSent;
      // each group sent its own chunks (plus a probe, headers, the chunk list); the home node relayed none
      assertThat(fromOther).as("bytes group %d sent", other).isGreaterThanOrEqualTo(bytesByGroup.get(other));
      assertThat(fromHome).as("bytes group %d sent", home)
          .isGreaterThanOrEqualTo(bytesByGroup.get(home))
          .isLessThan(bytesByGroup.get(home) + (4L << 20));
    }
  }

  private ChildServer child(String log, String... args) throws Exception {
    ChildServer child = ChildServer.command(dir, dir.resolve(log), args);
    children.add(child);
    return child;
  }

  private int writableGroups(URI tracker) throws Exception {
    int n = 0;
    for (JsonNode g : JSON.readTree(get(tracker.resolve("/cluster"))).path("groups")) {
      n += g.path("writable").asBoolean() ? 1 : 0;
    }
    return n;
  }

  private String get(URI uri) throws Exception {
    return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body();
  }
}
