package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.wimg.protocol.Fid;
import dev.wimg.server.tracker.TrackerConfig;
import dev.wimg.server.tracker.TrackerServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real tracker and real storage nodes in this JVM, on ephemeral loopback ports: heartbeats are
 * checked and shown in {@code /cluster}, uploads through the tracker reach a node of a group that
 * takes them (another one when the first has stopped), reads are redirected to the fid's group,
 * and the members of a group hold byte-identical copies of each other's volumes. Killing processes is left to the cli module's
 * {@code ClusterProcessesTest}.
 */
class TrackerTest {

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

  private StorageNode node(TrackerServer tracker, int group, String data) throws IOException {
    return node(tracker, group, data, 0);
  }

  private StorageNode node(TrackerServer tracker, int group, String data, long reserveBytes)
      throws IOException {
    return cluster.node(tracker.url(), group, data, reserveBytes);
  }

  private HttpResponse<String> post(URI uri, String body, String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri)
        .POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return cluster.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<byte[]> get(URI uri) throws Exception {
    return cluster.http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private JsonNode cluster(TrackerServer tracker) throws Exception {
    return TestServer.JSON.readTree(get(tracker.url().resolve("/cluster")).body());
  }

  private static String heartbeat(int group, String node, String url) {
    return "{\"version\":1,\"group\":" + group + ",\"node\":\"" + node + "\",\"url\":\"" + url + "\","
        + "\"zone\":\"z1\",\"state\":\"serving\",\"freeBytes\":1000,\"usedBytes\":8,"
        + "\"needles\":3,\"load\":0,\"volumes\":[1]}";
  }

  @Test
  void heartbeatsAreCheckedAndShown() throws Exception {
    TrackerServer tracker = tracker(TrackerConfig.defaults());
    URI beat = tracker.url().resolve("/cluster/heartbeat");

    HttpResponse<String> ok = post(beat, heartbeat(7, "n1", "http://127.0.0.1:1"));
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    JsonNode view = cluster(tracker);
    assertThat(view.at("/groups/0/id").asInt()).isEqualTo(7);
    assertThat(view.at("/groups/0/writable").asBoolean()).isTrue();
    assertThat(view.at("/groups/0/members/0/state").asText()).isEqualTo("serving");
    assertThat(view.at("/groups/0/members/0/zone").asText()).isEqualTo("z1");
    assertThat(view.at("/trackers/0").asText()).isEqualTo(tracker.url().toString());

    HttpResponse<String> garbage = post(beat, "{\"group\":");
    assertThat(garbage.statusCode()).isEqualTo(400);
    assertThat(garbage.body()).contains("\"error\":\"not a heartbeat");
    HttpResponse<String> badGroup = post(beat, heartbeat(0, "n2", "http://127.0.0.1:1"));
    assertThat(badGroup.statusCode()).isEqualTo(400);
    assertThat(badGroup.body()).contains("group must be 1..65535, got 0");
    HttpResponse<String> newer = post(beat, heartbeat(8, "n2", "http://127.0.0.1:1")
        .replace("\"version\":1", "\"version\":2"));
    assertThat(newer.statusCode()).isEqualTo(400);
    assertThat(newer.body()).contains("heartbeat version 2 is not read here; this build reads 1..1");
    HttpResponse<String> badUrl = post(beat, heartbeat(8, "n2", "ftp://x"));
    assertThat(badUrl.body()).contains("url must start with http://");
    assertThat(get(tracker.url().resolve("/cluster/heartbeat")).statusCode()).isEqualTo(405);
    assertThat(get(tracker.url().resolve("/nonsense")).statusCode()).isEqualTo(404);
  }

  @Test
  void aClusterKeyIsRequiredWhenTheTrackerHasOne() throws Exception {
    TrackerServer tracker = tracker(TrackerConfig.defaults().withClusterKey("s3cret"));
    URI beat = tracker.url().resolve("/cluster/heartbeat");
    String body = heartbeat(1, "n1", "http://127.0.0.1:1");
    assertThat(post(beat, body).statusCode()).isEqualTo(401);
    assertThat(post(beat, body, "X-Wimg-Cluster-Key", "wrong").statusCode()).isEqualTo(401);
    assertThat(post(beat, body, "X-Wimg-Cluster-Key", "s3cret").statusCode()).isEqualTo(200);
  }

  /**
   * A body larger than the tracker buffers, one of unknown length, and a resumable upload's
   * creation are answered 307 to a storage node from the request head, before any body is read
   * (so instead of 100 Continue); a client that follows it stores the file there.
   */
  @Test
  void uploadsTheTrackerDoesNotHoldAreRedirectedToAStorageNode() throws Exception {
    TrackerServer tracker = tracker(TrackerConfig.defaults().withMaxUploadBytes(1 << 20));
    StorageNode one = node(tracker, 1, "one");
    await().atMost(SETTLE).until(() -> cluster(tracker).at("/groups/0/writable").asBoolean());
    byte[] large = new byte[3 << 20];
    new java.util.Random(7).nextBytes(large);
    try (java.net.http.HttpClient follow = java.net.http.HttpClient.newBuilder()
        .followRedirects(java.net.http.HttpClient.Redirect.NORMAL).build()) {
      // answered from the head: the 3 MiB body is never taken by the tracker
      HttpResponse<String> redirect = cluster.http.send(HttpRequest.newBuilder(tracker.url().resolve("/files?name=big.bin"))
          .expectContinue(true).POST(HttpRequest.BodyPublishers.ofByteArray(large)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(redirect.statusCode()).isEqualTo(307);
      assertThat(redirect.headers().firstValue("Location")).hasValue(one.url() + "/files?name=big.bin");

      HttpResponse<String> stored = follow.send(HttpRequest.newBuilder(tracker.url().resolve("/files?name=big.bin"))
          .POST(HttpRequest.BodyPublishers.ofByteArray(large)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(stored.statusCode()).as(stored.body()).isEqualTo(201);
      assertThat(stored.uri()).isEqualTo(one.url().resolve("/files?name=big.bin"));
      String fid = TestServer.JSON.readTree(stored.body()).get("fid").asText();
      assertThat(get(one.url().resolve("/" + fid)).body()).isEqualTo(large);

      // a body of unknown length (chunked), however small
      HttpResponse<String> chunked = follow.send(HttpRequest.newBuilder(tracker.url().resolve("/files"))
          .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(
              "small, but of unknown length".getBytes(StandardCharsets.UTF_8)))).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(chunked.statusCode()).as(chunked.body()).isEqualTo(201);
      assertThat(chunked.uri().getPort()).isEqualTo(one.url().getPort());

      // a resumable upload is created on the node; its Location is then the node's
      HttpResponse<String> created = follow.send(HttpRequest.newBuilder(tracker.url().resolve("/uploads/"))
          .header("Tus-Resumable", "1.0.0").header("Upload-Length", "5")
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      URI upload = created.uri().resolve(created.headers().firstValue("Location").orElseThrow());
      assertThat(upload.getPort()).isEqualTo(one.url().getPort());
      HttpResponse<String> patched = cluster.http.send(HttpRequest.newBuilder(upload).header("Tus-Resumable", "1.0.0")
          .header("Upload-Offset", "0").header("Content-Type", "application/offset+octet-stream")
          .method("PATCH", HttpRequest.BodyPublishers.ofString("hello")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(patched.statusCode()).as(patched.body()).isEqualTo(204);
      String tusFid = patched.headers().firstValue("X-Wimg-Fid").orElseThrow();
      assertThat(new String(get(one.url().resolve("/" + tusFid)).body(), StandardCharsets.UTF_8)).isEqualTo("hello");

      // small uploads still pass through the tracker
      HttpResponse<String> small = post(tracker.url().resolve("/files"), "small");
      assertThat(small.statusCode()).as(small.body()).isEqualTo(201);
    }
  }

  @Test
  void uploadsThroughTheTrackerReachEveryGroupAndReadsAreRedirected() throws Exception {
    TrackerServer tracker = tracker(TrackerConfig.defaults()
        .withDownAfter(Duration.ofMillis(300)));
    StorageNode one = node(tracker, 1, "one");
    StorageNode two = node(tracker, 2, "two");
    await().atMost(SETTLE).until(() -> cluster(tracker).at("/groups").size() == 2
        && cluster(tracker).at("/groups/0/writable").asBoolean()
        && cluster(tracker).at("/groups/1/writable").asBoolean());

    JsonNode assigned = TestServer.JSON.readTree(get(tracker.url().resolve("/cluster/assign"))
        .body());
    assertThat(assigned.get("url").asText()).isIn(one.url().toString(), two.url().toString());
    assertThat(assigned.get("group").asInt()).isIn(1, 2);

    Set<Integer> groups = new HashSet<>();
    for (int i = 0; i < 10; i++) {
      String content = "file " + i;
      HttpResponse<String> up = post(tracker.url().resolve("/files?name=f" + i + ".txt"), content);
      assertThat(up.statusCode()).as(up.body()).isEqualTo(201);
      String fid = TestServer.JSON.readTree(up.body()).get("fid").asText();
      groups.add(Fid.parse(fid).group());
      HttpResponse<byte[]> redirect = get(tracker.url().resolve("/" + fid));
      assertThat(redirect.statusCode()).isEqualTo(307);
      URI location = URI.create(redirect.headers().firstValue("Location").orElseThrow());
      StorageNode holder = Fid.parse(fid).group() == 1 ? one : two;
      assertThat(location).isEqualTo(holder.url().resolve("/" + fid));
      assertThat(new String(get(location).body(), StandardCharsets.UTF_8)).isEqualTo(content);
    }
    assertThat(groups).as("groups of equal free space take turns").containsExactly(1, 2);

    // Node one stops: uploads go on to group 2, and reads of group 1 are a quick 503.
    one.close();
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> up = post(tracker.url().resolve("/files"), "after " + i);
      assertThat(up.statusCode()).as(up.body()).isEqualTo(201);
      assertThat(Fid.parse(TestServer.JSON.readTree(up.body()).get("fid").asText()).group())
          .isEqualTo(2);
    }
    await().atMost(SETTLE).until(() ->
        cluster(tracker).at("/groups/0/members/0/state").asText().equals("down"));
    assertThat(TestServer.JSON.readTree(get(tracker.url().resolve("/cluster/assign")).body())
        .get("group").asInt()).isEqualTo(2);
    HttpResponse<byte[]> unavailable = get(tracker.url().resolve("/1-1,108802d1c9"));
    assertThat(unavailable.statusCode()).isEqualTo(503);
    assertThat(new String(unavailable.body(), StandardCharsets.UTF_8))
        .contains("no member of group 1 serves reads now");
  }

  @Test
  void membersOfAGroupHoldByteIdenticalCopiesAndAckOnlyWithTwo() throws Exception {
    TrackerServer tracker = tracker(TrackerConfig.defaults()
        .withDownAfter(Duration.ofMillis(500)));
    StorageNode first = node(tracker, 1, "first");
    StorageNode second = node(tracker, 1, "second");
    await().atMost(SETTLE).until(() -> cluster(tracker).at("/groups/0/members").size() == 2
        && cluster(tracker).at("/groups/0/writable").asBoolean());
    // uploads to both members at once: each writes its own slot's volumes, copies the other's
    List<String> fids = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    List<Thread> writers = new java.util.ArrayList<>();
    for (StorageNode target : List.of(first, second)) {
      for (int t = 0; t < 3; t++) {
        int writer = t;
        writers.add(Thread.ofPlatform().start(() -> {
          for (int n = 0; n < 20; n++) {
            int i = n;
            try {
              HttpResponse<String> r = await().atMost(SETTLE).until(() -> post(
                  target.url().resolve("/files"), "file " + target.port() + "/" + writer + "/" + i),
                  resp -> resp.statusCode() != 503);
              assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
              fids.add(TestServer.JSON.readTree(r.body()).get("fid").asText());
            } catch (Exception e) {
              throw new AssertionError(e);
            }
          }
        }));
      }
    }
    for (Thread w : writers) {
      w.join();
    }
    assertThat(fids).hasSize(120).doesNotHaveDuplicates();
    for (String fid : fids) {
      byte[] fromFirst = get(first.url().resolve("/" + fid)).body();
      assertThat(get(second.url().resolve("/" + fid)).body()).as(fid).isEqualTo(fromFirst);
    }
    Set<Integer> volumes = new HashSet<>();
    for (String fid : fids) {
      volumes.add(Fid.parse(fid).volume());
    }
    assertThat(volumes).containsExactlyInAnyOrder((first.slot() << 16) | 1, (second.slot() << 16) | 1);
    // a delete sent to the member that does not write the volume is done by its writer, on both
    String ofFirst = fids.stream().filter(f -> Fid.parse(f).volume() >> 16 == first.slot())
        .findFirst().orElseThrow();
    HttpResponse<String> deleted = cluster.http.send(HttpRequest.newBuilder(second.url().resolve("/" + ofFirst))
        .DELETE().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(204);
    assertThat(get(first.url().resolve("/" + ofFirst)).statusCode()).isEqualTo(404);
    assertThat(get(second.url().resolve("/" + ofFirst)).statusCode()).isEqualTo(404);
    for (int v : volumes) {
      String name = "1-" + v + ".dat";
      long length = java.nio.file.Files.size(dir.resolve("first").resolve(name));
      byte[] a = java.nio.file.Files.readAllBytes(dir.resolve("first").resolve(name));
      byte[] b = java.nio.file.Files.readAllBytes(dir.resolve("second").resolve(name));
      long end = usedBytes(first, v);
      assertThat(end).isEqualTo(usedBytes(second, v)).isLessThanOrEqualTo(length);
      assertThat(java.util.Arrays.copyOf(b, (int) end)).as(name).isEqualTo(java.util.Arrays.copyOf(a, (int) end));
    }

    // with its peer gone, a member acknowledges nothing (two copies are needed) and the tracker
    // stops placing uploads on the group
    cluster.stop(second);
    HttpResponse<String> refused = post(first.url().resolve("/files"), "one copy only");
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
    assertThat(refused.body()).contains("copies are needed");
    await().atMost(SETTLE).until(() -> !cluster(tracker).at("/groups/0/writable").asBoolean());
    assertThat(post(tracker.url().resolve("/files"), "nowhere").statusCode()).isEqualTo(503);
  }

  private long usedBytes(StorageNode node, int volume) throws Exception {
    for (JsonNode v : TestServer.JSON.readTree(get(node.url().resolve("/replica")).body()).get("volumes")) {
      if (v.get("id").asInt() == volume) {
        return v.get("end").asLong();
      }
    }
    throw new AssertionError("no volume " + volume + " on " + node.url());
  }

  @Test
  void aNodeBelowItsFreeSpaceReserveIsReadOnlyAndRefusesUploadsWith507() throws Exception {
    TrackerServer tracker = tracker(TrackerConfig.defaults()
        .withDownAfter(Duration.ofMillis(300)));
    StorageNode full = node(tracker, 1, "full", Long.MAX_VALUE);
    await().atMost(SETTLE).until(() -> cluster(tracker).at("/groups/0/members/0/state").asText()
        .equals("read-only"));
    assertThat(cluster(tracker).at("/groups/0/writable").asBoolean()).isFalse();
    HttpResponse<String> refused = post(full.url().resolve("/files"), "no room");
    assertThat(refused.statusCode()).isEqualTo(507);
    assertThat(refused.body()).contains("this storage node is read-only: its free space, ")
        .contains("is below its reserve of " + Long.MAX_VALUE + " bytes");
    HttpResponse<String> placed = post(tracker.url().resolve("/files"), "no room anywhere");
    assertThat(placed.statusCode()).isEqualTo(503);
  }
}
