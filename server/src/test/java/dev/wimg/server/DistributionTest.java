package dev.wimg.server;

import static dev.wimg.server.StatusAndMetricsTest.sample;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Peer-assisted distribution on loopback, a tracker and five nodes in the test's JVM: a large file
 * stored on a node of group 1 (zone {@code origin}) is distributed to the four nodes of zone
 * {@code edge} (groups 2-5); each ends with a pinned copy it serves byte for byte as the source
 * does ({@code GET}, {@code HEAD}'s headers, {@code Range}, {@code ?chunks}), also after a
 * restart; the source sends the file about once (its bytes sent, and the task's own count); a
 * tracker sends a read from zone {@code edge} to a copy there; a cancelled task's pins go, but not
 * a pin another task of the same file holds. Bad requests and reports get their 4xx.
 */
class DistributionTest {

  private static final Duration SETTLE = Duration.ofSeconds(60);
  private static final int CHUNK = 8 << 20;
  private static final int TARGETS = 4;
  /** A node reports the tasks it has done every 5 s (NodeTasks.DONE_REPORT_INTERVAL), plus a margin. */
  private static final long DONE_REPORTS_MILLIS = 6_000;

  @TempDir
  Path dir;

  @Test
  void aLargeFileReachesEveryTargetWhileItsSourceSendsItAboutOnce() throws Exception {
    try (InProcessCluster cluster = new InProcessCluster(dir)) {
      TrackerServer tracker = cluster.tracker(TrackerConfig.defaults().withDownAfter(Duration.ofSeconds(1)));
      StorageNode source = cluster.node(tracker.url(), 1, "source", 0, "origin");
      await().atMost(SETTLE).until(() -> liveNodes(cluster, tracker) == 1);
      // stored while group 1 is the only group, so every chunk is the source's
      byte[] file = new byte[7 * CHUNK + 4321];
      new Random(12).nextBytes(file);
      HttpResponse<String> stored = cluster.http.send(HttpRequest.newBuilder(source.url().resolve("/files?name=edge.bin"))
          .header("Content-Type", "application/x-edge").POST(HttpRequest.BodyPublishers.ofByteArray(file)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(stored.statusCode()).as(stored.body()).isEqualTo(201);
      String fid = TestServer.JSON.readTree(stored.body()).get("fid").asText();

      List<StorageNode> targets = new ArrayList<>();
      for (int i = 0; i < TARGETS; i++) {
        targets.add(cluster.node(tracker.url(), 2 + i, "edge-" + i, 0, "edge"));
      }
      await().atMost(SETTLE).until(() -> liveNodes(cluster, tracker) == 1 + TARGETS);
      double sentBefore = sent(cluster, source);

      HttpResponse<String> created = post(cluster, tracker.url().resolve("/tasks"),
          "{\"fid\":\"" + fid + "\",\"targets\":[\"zone:edge\"]}");
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      JsonNode task = TestServer.JSON.readTree(created.body());
      String id = task.get("id").asText();
      assertThat(created.headers().firstValue("Location")).hasValue("/tasks/" + id);
      assertThat(task.get("state").asText()).isEqualTo("running");
      assertThat(task.get("pieces").asInt()).isEqualTo(8);
      assertThat(task.get("targets")).hasSize(TARGETS);

      await().atMost(SETTLE).until(() -> status(cluster, tracker, id).get("state").asText().equals("running") ? false
          : true);
      JsonNode done = status(cluster, tracker, id);
      assertThat(done.get("state").asText()).as(done.toString()).isEqualTo("done");
      for (JsonNode t : done.get("targets")) {
        assertThat(t.get("state").asText()).isEqualTo("done");
        assertThat(t.get("pieces").asInt()).isEqualTo(8);
      }

      // the source sent about one copy; the targets the rest, to each other
      double sourceSent = sent(cluster, source) - sentBefore;
      assertThat(sourceSent / file.length).as("copies the source sent").isBetween(0.99, 1.3);
      assertThat(done.get("sourceCopies").asDouble()).isBetween(0.99, 1.3);

      // every copy is the source's, on every read path
      HttpResponse<byte[]> original = get(cluster, source.url().resolve("/" + fid), null);
      String chunks = new String(get(cluster, source.url().resolve("/" + fid + "?chunks"), null).body());
      for (StorageNode target : targets) {
        HttpResponse<byte[]> copy = get(cluster, target.url().resolve("/" + fid), null);
        assertThat(copy.statusCode()).isEqualTo(200);
        assertThat(copy.body()).as("the copy on %s", target.url()).isEqualTo(file);
        for (String header : List.of("ETag", "Content-Type", "Last-Modified", "Content-Disposition", "Content-Length")) {
          assertThat(copy.headers().firstValue(header)).as(header).isEqualTo(original.headers().firstValue(header));
        }
        HttpResponse<byte[]> range = get(cluster, target.url().resolve("/" + fid), "bytes=" + (CHUNK - 7) + "-"
            + (3L * CHUNK + 6));
        assertThat(range.statusCode()).isEqualTo(206);
        assertThat(range.body()).isEqualTo(Arrays.copyOfRange(file, CHUNK - 7, 3 * CHUNK + 7));
        assertThat(new String(get(cluster, target.url().resolve("/" + fid + "?chunks"), null).body())).isEqualTo(chunks);
      }

      // a tracker sends a read from zone edge to a copy there, others to the file's group
      HttpResponse<Void> near = cluster.http.send(HttpRequest.newBuilder(tracker.url().resolve("/" + fid))
          .header("X-Wimg-Zone", "edge").build(), HttpResponse.BodyHandlers.discarding());
      assertThat(near.statusCode()).isEqualTo(307);
      assertThat(near.headers().firstValue("Location").orElseThrow())
          .isIn(targets.stream().map(t -> t.url() + "/" + fid).toList());
      HttpResponse<Void> far = cluster.http.send(HttpRequest.newBuilder(tracker.url().resolve("/" + fid))
          .header("X-Wimg-Zone", "origin").build(), HttpResponse.BodyHandlers.discarding());
      assertThat(far.headers().firstValue("Location")).hasValue(source.url() + "/" + fid);

      // GET /locations lists the group's member and the pinned copies, the client's zone first
      List<String> targetUrls = targets.stream().map(t -> t.url().toString()).toList();
      JsonNode fromEdge = TestServer.JSON.readTree(cluster.http.send(HttpRequest.newBuilder(
          tracker.url().resolve("/locations/" + fid)).header("X-Wimg-Zone", "edge").build(),
          HttpResponse.BodyHandlers.ofString()).body());
      assertThat(fromEdge.get("group").asInt()).isEqualTo(1);
      assertThat(fromEdge.get("locations")).hasSize(1 + TARGETS);
      for (int i = 0; i < TARGETS; i++) {
        JsonNode pin = fromEdge.get("locations").get(i);
        assertThat(pin.get("kind").asText()).isEqualTo("pinned");
        assertThat(pin.get("zone").asText()).isEqualTo("edge");
        assertThat(pin.get("url").asText()).isIn(targetUrls);
      }
      assertThat(fromEdge.get("locations").get(TARGETS).get("url").asText()).isEqualTo(source.url().toString());
      JsonNode fromOrigin = TestServer.JSON.readTree(cluster.http.send(HttpRequest.newBuilder(
          tracker.url().resolve("/locations/" + fid)).header("X-Wimg-Zone", "origin").build(),
          HttpResponse.BodyHandlers.ofString()).body());
      assertThat(fromOrigin.get("locations").get(0).get("kind").asText()).isEqualTo("member");
      assertThat(fromOrigin.get("locations").get(0).get("url").asText()).isEqualTo(source.url().toString());
      HttpResponse<String> notAFid = cluster.http.send(HttpRequest.newBuilder(
          tracker.url().resolve("/locations/nofid")).build(), HttpResponse.BodyHandlers.ofString());
      assertError(notAFid, 404, "no such file");
      HttpResponse<String> posted = post(cluster, tracker.url().resolve("/locations/" + fid), "{}");
      assertError(posted, 405, "not allowed");

      // a restarted target serves its pin again
      StorageNode restarted = targets.getFirst();
      cluster.stop(restarted);
      StorageNode again = cluster.node(tracker.url(), 2, "edge-0", 0, "edge");
      assertThat(get(cluster, again.url().resolve("/" + fid), null).body()).isEqualTo(file);

      // a report naming pieces the task does not have is refused, and changes nothing
      HttpResponse<String> bad = post(cluster, tracker.url().resolve("/tasks/" + id + "/report"),
          "{\"version\":1,\"task\":\"" + id + "\",\"node\":\"" + again.nodeId() + "\",\"url\":\"http://x\","
              + "\"state\":\"fetching\",\"have\":\"AAAAAAAAAAE=\",\"fetching\":[],\"bytes\":0,\"sourceBytes\":0,"
              + "\"rate\":0}");
      assertError(bad, 400, "have names piece");
      assertThat(status(cluster, tracker, id).get("state").asText()).isEqualTo("done");

      // a second task for the same file keeps its pin on its target when the first is cancelled
      StorageNode second = targets.get(1);
      HttpResponse<String> other = post(cluster, tracker.url().resolve("/tasks"),
          "{\"fid\":\"" + fid + "\",\"targets\":[\"node:" + second.nodeId() + "\"]}");
      assertThat(other.statusCode()).as(other.body()).isEqualTo(201);
      String otherId = TestServer.JSON.readTree(other.body()).get("id").asText();
      await().atMost(SETTLE).until(() -> status(cluster, tracker, otherId).get("state").asText().equals("done"));

      // a cancelled task's pins go
      HttpResponse<String> cancel = cluster.http.send(HttpRequest.newBuilder(tracker.url().resolve("/tasks/" + id))
          .DELETE().build(), HttpResponse.BodyHandlers.ofString());
      assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(204);
      assertThat(status(cluster, tracker, id).get("state").asText()).isEqualTo("cancelled");
      for (StorageNode target : targets.subList(2, TARGETS)) {
        await().atMost(SETTLE).until(() -> cluster.http.send(HttpRequest.newBuilder(target.url().resolve("/" + fid))
            .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding())
            .statusCode() == 404);
      }
      // (the cancel reached the second target as well: its report comes within 5 s, once done)
      Thread.sleep(DONE_REPORTS_MILLIS);
      assertThat(get(cluster, second.url().resolve("/" + fid), null).body()).as("pinned by the second task")
          .isEqualTo(file);

      // the original is deleted: the copy goes too, and its task says why
      HttpResponse<String> deleted = cluster.http.send(HttpRequest.newBuilder(source.url().resolve("/" + fid))
          .DELETE().build(), HttpResponse.BodyHandlers.ofString());
      assertThat(deleted.statusCode()).as(deleted.body()).isIn(200, 204);
      await().atMost(SETTLE).until(() -> cluster.http.send(HttpRequest.newBuilder(second.url().resolve("/" + fid))
          .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding())
          .statusCode() == 404);
      await().atMost(SETTLE).until(() -> status(cluster, tracker, otherId).get("state").asText().equals("failed"));
      assertThat(status(cluster, tracker, otherId).get("targets").get(0).get("reason").asText())
          .contains("deleted at its source");
    }
  }


  @Test
  void badTasksAreRefusedWithTheirReasons() throws Exception {
    try (InProcessCluster cluster = new InProcessCluster(dir)) {
      TrackerServer tracker = cluster.tracker(TrackerConfig.defaults().withDownAfter(Duration.ofSeconds(1)));
      StorageNode source = cluster.node(tracker.url(), 1, "source", 0, "origin");
      StorageNode edge = cluster.node(tracker.url(), 2, "edge", 0, "edge");
      await().atMost(SETTLE).until(() -> liveNodes(cluster, tracker) == 2);
      HttpResponse<String> small = cluster.http.send(HttpRequest.newBuilder(source.url().resolve("/files"))
          .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[1000])).build(), HttpResponse.BodyHandlers.ofString());
      String smallFid = TestServer.JSON.readTree(small.body()).get("fid").asText();
      URI tasks = tracker.url().resolve("/tasks");

      assertError(post(cluster, tasks, "not json"), 400, "");
      assertError(post(cluster, tasks, "{\"fid\":\"" + smallFid + "\",\"targets\":[\"bogus\"]}"), 400,
          "none of zone:NAME, group:N");
      assertError(post(cluster, tasks, "{\"fid\":\"" + smallFid + "\",\"targets\":[]}"), 400, "targets");
      assertError(post(cluster, tasks, "{\"fid\":\"nofid\",\"targets\":[\"zone:edge\"]}"), 400, "");
      assertError(post(cluster, tasks, "{\"fid\":\"" + smallFid + "\",\"targets\":[\"zone:nowhere\"]}"), 503,
          "no live storage node");
      assertError(post(cluster, tasks, "{\"fid\":\"" + smallFid + "\",\"targets\":[\"zone:edge\"]}"), 422,
          "stored whole");
      Fid missing = Fid.parse(smallFid);
      assertError(post(cluster, tasks, "{\"fid\":\"" + new Fid(1, missing.volume(), missing.key() + 1000,
          missing.cookie()) + "\",\"targets\":[\"zone:edge\"]}"), 404, "no such file");
      assertError(cluster.http.send(HttpRequest.newBuilder(tracker.url().resolve("/tasks/0123")).build(),
          HttpResponse.BodyHandlers.ofString()), 404, "no such task");
      assertError(cluster.http.send(HttpRequest.newBuilder(tracker.url().resolve("/tasks/" + "ab".repeat(16)))
          .build(), HttpResponse.BodyHandlers.ofString()), 404, "no such task");
      assertError(post(cluster, tracker.url().resolve("/tasks/" + "ab".repeat(16) + "/report"), "{}"), 400,
          "not a task report");
      assertThat(edge.url()).isNotNull();
    }
  }

  private static void assertError(HttpResponse<String> r, int status, String words) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.body()).startsWith("{\"error\":").contains(words);
  }

  private static HttpResponse<String> post(InProcessCluster cluster, URI uri, String body) throws Exception {
    return cluster.http.send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<byte[]> get(InProcessCluster cluster, URI uri, String range) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(uri);
    if (range != null) {
      r.header("Range", range);
    }
    return cluster.http.send(r.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static JsonNode status(InProcessCluster cluster, TrackerServer tracker, String id) throws Exception {
    return TestServer.JSON.readTree(get(cluster, tracker.url().resolve("/tasks/" + id), null).body());
  }

  private static double sent(InProcessCluster cluster, StorageNode node) throws Exception {
    return sample(new String(get(cluster, node.url().resolve("/metrics"), null).body()), "wimg_http_sent_bytes_total");
  }

  private static int liveNodes(InProcessCluster cluster, TrackerServer tracker) throws Exception {
    int live = 0;
    for (JsonNode g : TestServer.JSON.readTree(get(cluster, tracker.url().resolve("/cluster"), null).body())
        .get("groups")) {
      for (JsonNode m : g.get("members")) {
        live += m.get("state").asText().equals("serving") ? 1 : 0;
      }
    }
    return live;
  }
}
