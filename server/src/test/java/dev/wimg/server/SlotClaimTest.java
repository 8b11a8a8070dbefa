package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.wimg.protocol.Fid;
import dev.wimg.server.tracker.TrackerConfig;
import dev.wimg.server.tracker.TrackerServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Member slots through a real tracker and real storage nodes in this JVM: {@code POST
 * /cluster/slots} (its checks, and 503 without a majority of the trackers), a storage node asking
 * for its slot on its first start, writing volumes of that slot, reporting it in its heartbeats,
 * and keeping it across a restart with no tracker running. The Raft group of several trackers is
 * {@code internal.slots.SlotRaftTest}'s.
 */
class SlotClaimTest {

  private static final Duration SETTLE = Duration.ofSeconds(60);

  @TempDir
  Path dir;

  private InProcessCluster cluster;

  @BeforeEach
  void start() {
    cluster = new InProcessCluster(dir);
  }

  @AfterEach
  void stop() throws Exception {
    cluster.close();
  }

  private TrackerServer tracker(TrackerConfig config) throws IOException {
    return cluster.tracker(config);
  }

  private StorageNode node(URI tracker, int group, String data) throws IOException {
    return cluster.node(tracker, group, data, NodeConfig.DEFAULT_RESERVE_BYTES);
  }

  private HttpResponse<String> claim(TrackerServer tracker, String body, String... headers)
      throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(tracker.url().resolve("/cluster/slots"))
        .POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return cluster.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private List<String> derivedVolumes() throws IOException {
    Path derived = dir.resolve("node/derived");
    if (!Files.isDirectory(derived)) {
      return List.of();
    }
    try (var files = Files.list(derived)) {
      return files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".dat")).toList();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  @Test
  void aClaimIsAnsweredWithTheNodesSlotAndBadClaimsAreRefused() throws Exception {
    TrackerServer tracker = tracker(TrackerConfig.defaults());
    HttpResponse<String> first = claim(tracker, "{\"group\":3,\"node\":\"a\"}");
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    assertThat(first.body()).isEqualTo("{\"group\":3,\"node\":\"a\",\"slot\":1}");
    assertThat(claim(tracker, "{\"group\":3,\"node\":\"b\"}").body()).contains("\"slot\":2");
    assertThat(claim(tracker, "{\"group\":3,\"node\":\"a\"}").body()).contains("\"slot\":1");
    assertThat(claim(tracker, "{\"group\":4,\"node\":\"b\"}").body()).contains("\"slot\":1");

    HttpResponse<String> badGroup = claim(tracker, "{\"group\":0,\"node\":\"a\"}");
    assertThat(badGroup.statusCode()).isEqualTo(400);
    assertThat(badGroup.body()).contains("not a slot claim: group must be 1..65535, got 0");
    HttpResponse<String> garbage = claim(tracker, "{\"group\":");
    assertThat(garbage.statusCode()).isEqualTo(400);
    assertThat(garbage.body()).contains("\"error\":\"not a slot claim");
    HttpResponse<String> get = cluster.http.send(HttpRequest.newBuilder(
        tracker.url().resolve("/cluster/slots")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(get.statusCode()).isEqualTo(405);
    assertThat(get.headers().firstValue("Allow")).hasValue("POST");
  }

  @Test
  void aClaimNeedsTheClusterKeyWhenTheTrackerHasOne() throws Exception {
    TrackerServer tracker = tracker(TrackerConfig.defaults().withClusterKey("s3cret"));
    String body = "{\"group\":1,\"node\":\"a\"}";
    HttpResponse<String> without = claim(tracker, body);
    assertThat(without.statusCode()).isEqualTo(401);
    assertThat(without.body()).contains("a slot claim needs the cluster key in X-Wimg-Cluster-Key");
    assertThat(claim(tracker, body, "X-Wimg-Cluster-Key", "wrong").statusCode()).isEqualTo(401);
    assertThat(claim(tracker, body, "X-Wimg-Cluster-Key", "s3cret").statusCode()).isEqualTo(200);
  }

  @Test
  void withoutAMajorityOfTheTrackersAClaimIsA503() throws Exception {
    // this tracker's Raft group has two more members that never run: it alone is no majority
    TrackerServer tracker = tracker(TrackerConfig.defaults().withRaft(null,
        List.of("127.0.0.1:" + freePort(), "127.0.0.1:" + freePort())));
    HttpResponse<String> answer = claim(tracker, "{\"group\":1,\"node\":\"a\"}");
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(503);
    assertThat(answer.headers().firstValue("Retry-After")).hasValue("1");
    assertThat(answer.body()).startsWith("{\"error\":\"no slot now: no majority of the trackers")
        .contains("a slot needs a majority of the trackers running");
  }

  @Test
  void aStorageNodeGetsItsSlotOnceWritesItsVolumesAndKeepsItWithoutTrackers() throws Exception {
    TrackerServer tracker = tracker(TrackerConfig.defaults());
    // another node took slot 1 of group 1 first
    assertThat(claim(tracker, "{\"group\":1,\"node\":\"earlier\"}").body()).contains("\"slot\":1");
    StorageNode node = node(tracker.url(), 1, "node");
    assertThat(node.slot()).isEqualTo(2);
    assertThat(Files.readString(dir.resolve("node/node.properties"))).contains("slot=2\n");
    await().atMost(SETTLE).until(() -> {
      JsonNode view = TestServer.JSON.readTree(cluster.http.send(HttpRequest.newBuilder(
          tracker.url().resolve("/cluster")).build(), HttpResponse.BodyHandlers.ofString()).body());
      return view.at("/groups/0/writable").asBoolean()
          && view.at("/groups/0/members/0/slot").asInt() == 2;
    });
    HttpResponse<String> up = cluster.http.send(HttpRequest.newBuilder(node.url().resolve("/files"))
        .POST(HttpRequest.BodyPublishers.ofString("slotted")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(up.statusCode()).as(up.body()).isEqualTo(201);
    Fid fid = Fid.parse(TestServer.JSON.readTree(up.body()).get("fid").asText());
    assertThat(fid.volume()).isEqualTo((2 << 16) | 1);
    // derived pictures are the node's own cache: their store stays at slot 0
    HttpResponse<String> picture = cluster.http.send(HttpRequest.newBuilder(node.url().resolve("/files"))
        .POST(HttpRequest.BodyPublishers.ofByteArray(TransformTest.picture("painting.jpg")))
        .build(), HttpResponse.BodyHandlers.ofString());
    String pictureFid = TestServer.JSON.readTree(picture.body()).get("fid").asText();
    assertThat(cluster.http.send(HttpRequest.newBuilder(node.url().resolve("/" + pictureFid + "?w=40"))
        .build(), HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(200);
    await().atMost(SETTLE).until(() -> !derivedVolumes().isEmpty());
    assertThat(derivedVolumes()).containsExactly("1-1.dat");
    String id = node.nodeId();
    cluster.stop(node);
    cluster.stop(tracker);

    // No tracker runs now (its port is closed): a restart does not ask, and keeps its slot.
    StorageNode again = node(tracker.url(), 1, "node");
    assertThat(again.nodeId()).isEqualTo(id);
    assertThat(again.slot()).isEqualTo(2);
    HttpResponse<String> read = cluster.http.send(HttpRequest.newBuilder(
        again.url().resolve("/" + fid)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(read.body()).isEqualTo("slotted");
  }
}
