package dev.wimg.client;

import static dev.wimg.client.StandIns.closedPort;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client of trackers sends reads, deletes and uploads to storage nodes itself, from one cached
 * {@code /cluster} view: which node each request reaches, when the view is fetched again, and how
 * it falls back to the tracker.
 *
 * <p>The tracker and the storage nodes here are stand-ins (com.sun.net.httpserver on loopback
 * ports): the client module cannot depend on the server module, and a stand-in records every
 * request it receives and gives the exact answer under test (a {@code 503}, a {@code 404}). The
 * stand-in tracker answers {@code /cluster} with the document the test sets, {@code POST /files}
 * with an acknowledgement, and a fid with a {@code 307} to {@link #elsewhere}, as the real tracker
 * redirects to a member; a stand-in node answers a fid with its name as the body. The clock of the
 * view's age is a counter the tests move, never the wall clock. The client against a real tracker
 * and real storage processes is tested in the cli module ({@code ClusterProcessesTest}).
 */
class WimgClientDirectTest {

  private static final String KEY = "s3cret";
  private static final String FID1 = "1-1,109c2ab3e";
  private static final String FID2 = "2-1,109c2ab3e";
  private static final Duration TTL = Duration.ofSeconds(10);

  @TempDir Path tmp;
  private final StandIns standIns = new StandIns();
  /** The clock of the view's age, nanoseconds; moved by the tests only. */
  private final AtomicLong clock = new AtomicLong(1_000);
  /** The {@code /cluster} document the stand-in tracker answers. */
  private final AtomicReference<String> view = new AtomicReference<>();
  /** Every request the stand-in tracker received: method and path with query. */
  private final List<String> trackerSaw = new CopyOnWriteArrayList<>();
  private URI tracker;
  /** A stand-in node the tracker redirects reads and deletes of a fid to. */
  private Node elsewhere;

  @AfterEach
  void stopStandIns() {
    standIns.close();
  }

  @Test
  void readsAndDeletesGoToTheLeastLoadedReadingMemberOfTheFidsGroup() throws IOException {
    startTracker();
    Node busiest = node("busiest", 200);
    Node readOnly = node("read-only", 200);
    Node catchingUp = node("catching-up", 200);
    Node down = node("down", 200);
    Node group2 = node("group2", 200);
    view.set(cluster(
        group(1, true, member(busiest, "serving", 3), member(readOnly, "read-only", 1),
            member(catchingUp, "catching-up", 0), member(down, "down", 0)),
        group(2, true, member(group2, "serving", 0))));

    try (WimgClient client = client()) {
      assertThat(client.download(FID1)).asString(StandardCharsets.UTF_8).isEqualTo("read-only");
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      client.download(FID1, out);
      assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("read-only");
      Path target = tmp.resolve("two.bin");
      client.download(FID2, target);
      assertThat(target).hasContent("group2");
      assertThat(client.delete(FID1)).isTrue();
    }

    assertThat(trackerSaw).containsExactly("GET /cluster");
    assertThat(readOnly.saw).containsExactly("GET /" + FID1 + " null", "GET /" + FID1 + " null",
        "DELETE /" + FID1 + " Bearer " + KEY);
    // to a file: HEAD first (a large file would come as parallel ranges), then the GET
    assertThat(group2.saw).containsExactly("HEAD /" + FID2 + " null", "GET /" + FID2 + " null");
    assertThat(busiest.saw).isEmpty();
    assertThat(catchingUp.saw).isEmpty();
    assertThat(down.saw).isEmpty();
  }

  @Test
  void deadAndBusyMembersAreSkippedForOneTtlAndTheViewIsFetchedAgainAtOnce() throws IOException {
    startTracker();
    URI dead = URI.create("http://127.0.0.1:" + closedPort());
    Node busy = node("busy", 503);
    Node live = node("live", 200);
    view.set(cluster(group(1, true, member(dead, "serving", 0), member(busy, "serving", 1),
        member(live, "serving", 2))));

    try (WimgClient client = client()) {
      assertThat(client.download(FID1)).asString(StandardCharsets.UTF_8).isEqualTo("live");
      assertThat(busy.saw).hasSize(1);
      assertThat(trackerSaw).containsExactly("GET /cluster");

      // The clock has not moved: the view is fetched again because a member failed, and the
      // member that failed is not asked again.
      assertThat(client.download(FID1)).asString(StandardCharsets.UTF_8).isEqualTo("live");
      assertThat(trackerSaw).containsExactly("GET /cluster", "GET /cluster");
      assertThat(busy.saw).hasSize(1);
      assertThat(live.saw).hasSize(2);

      // One TTL later the failed members are tried again, least loaded first.
      clock.addAndGet(TTL.toNanos());
      assertThat(client.download(FID1)).asString(StandardCharsets.UTF_8).isEqualTo("live");
      assertThat(busy.saw).hasSize(2);
      assertThat(live.saw).hasSize(3);
      assertThat(trackerSaw).containsExactly("GET /cluster", "GET /cluster", "GET /cluster");
    }
    assertThat(elsewhere.saw).isEmpty();
  }

  @Test
  void a404FromAMemberIsTheAnswer() throws IOException {
    startTracker();
    Node member = node("member", 404);
    view.set(cluster(group(1, true, member(member, "serving", 0))));

    try (WimgClient client = client()) {
      assertThatThrownBy(() -> client.download(FID1))
          .isInstanceOfSatisfying(WimgException.class, e -> assertThat(e.status()).isEqualTo(404));
      assertThat(client.delete(FID1)).isFalse();
    }
    assertThat(member.saw).containsExactly("GET /" + FID1 + " null", "DELETE /" + FID1 + " Bearer " + KEY);
    assertThat(trackerSaw).containsExactly("GET /cluster");
    assertThat(elsewhere.saw).isEmpty();
  }

  @Test
  void whenNoMemberAnswersTheReadGoesThroughTheTrackersRedirect() throws IOException {
    startTracker();
    Node busy = node("busy", 503);
    view.set(cluster(group(1, true, member(busy, "serving", 0))));

    try (WimgClient client = client()) {
      assertThat(client.download(FID1)).asString(StandardCharsets.UTF_8).isEqualTo("elsewhere");
      // Group 2 is not in the view: through the tracker at once.
      assertThat(client.download(FID2)).asString(StandardCharsets.UTF_8).isEqualTo("elsewhere");
    }
    assertThat(busy.saw).containsExactly("GET /" + FID1 + " null");
    assertThat(trackerSaw).containsExactly("GET /cluster", "GET /" + FID1, "GET /cluster", "GET /" + FID2);
    assertThat(elsewhere.saw).containsExactly("GET /" + FID1 + " null", "GET /" + FID2 + " null");
  }

  @Test
  void uploadGoesToANodeDirectlyAndToAnotherGroupWhenItsNodeAnswers503() throws IOException {
    startTracker();
    Node busy = node("busy", 503);
    Node ok = node("ok", 200, 2);
    view.set(cluster(group(1, true, member(busy, "serving", 0)), group(2, true, member(ok, "serving", 0))));

    try (WimgClient client = client()) {
      UploadResult first = client.upload(bytes("first"), "a.txt", "text/plain");
      assertThat(first.fid()).isEqualTo("2-1,109c2ab3e");
      // The file's URL names the tracker, which redirects to whichever member serves it then.
      assertThat(client.urlOf(first)).isEqualTo(URI.create(tracker + "/" + first.fid()));

      client.upload(bytes("second"), "b.txt", "text/plain");
    }
    assertThat(busy.saw).containsExactly("POST /files?name=a.txt Bearer " + KEY + " first");
    assertThat(ok.saw).containsExactly("POST /files?name=a.txt Bearer " + KEY + " first",
        "POST /files?name=b.txt Bearer " + KEY + " second");
    assertThat(trackerSaw).containsExactly("GET /cluster", "GET /cluster");
  }

  @Test
  void uploadsTakeTurnsOverWritableGroupsOnTheirLeastLoadedServingMember() throws IOException {
    startTracker();
    Node loaded = node("loaded", 200);
    Node idle = node("idle", 200);
    Node other = node("other", 200);
    Node notWritable = node("not-writable", 200);
    Node readOnly = node("read-only", 200);
    view.set(cluster(
        group(1, true, member(loaded, "serving", 5), member(idle, "serving", 1)),
        group(2, true, member(other, "serving", 0)),
        group(3, false, member(notWritable, "serving", 0)),
        group(4, true, member(readOnly, "read-only", 0))));

    try (WimgClient client = client()) {
      for (int i = 0; i < 4; i++) {
        client.upload(bytes("u" + i), null, null);
      }
    }
    assertThat(idle.saw).hasSize(2);
    assertThat(other.saw).hasSize(2);
    assertThat(loaded.saw).isEmpty();
    assertThat(notWritable.saw).isEmpty();
    assertThat(readOnly.saw).isEmpty();
    assertThat(trackerSaw).containsExactly("GET /cluster");
  }

  @Test
  void anUploadNoNodeTakesGoesToTheTrackerAfterAtMostThreeNodes() throws IOException {
    startTracker();
    List<Node> nodes = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      nodes.add(node("n" + i, i % 2 == 0 ? 503 : 500));
    }
    view.set(cluster(group(1, true, member(nodes.get(0), "serving", 0), member(nodes.get(1), "serving", 1)),
        group(2, true, member(nodes.get(2), "serving", 0), member(nodes.get(3), "serving", 1))));

    try (WimgClient client = client()) {
      UploadResult r = client.upload(bytes("hello"), "h.txt", null);
      assertThat(r.fid()).isEqualTo("1-1,109c2ab3e");
    }
    assertThat(nodes.stream().mapToInt(n -> n.saw.size()).sum())
        .isEqualTo(WimgClient.MAX_DIRECT_UPLOAD_ATTEMPTS);
    // The first group's best member, then the other group's, then the first group's second.
    assertThat(nodes.get(0).saw).hasSize(1);
    assertThat(nodes.get(2).saw).hasSize(1);
    assertThat(nodes.get(1).saw).hasSize(1);
    assertThat(trackerSaw).containsExactly("GET /cluster", "POST /files?name=h.txt");
  }

  @Test
  void theViewIsFetchedOnceForManyCallsFromManyThreadsAndAgainAfterItsTtl() throws Exception {
    startTracker();
    Node member = node("member", 200);
    view.set(cluster(group(1, true, member(member, "serving", 0))));

    try (WimgClient client = client(); ExecutorService pool = Executors.newFixedThreadPool(8)) {
      List<Future<byte[]>> reads = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        reads.add(pool.submit(() -> client.download(FID1)));
      }
      for (Future<byte[]> read : reads) {
        assertThat(read.get()).asString(StandardCharsets.UTF_8).isEqualTo("member");
      }
      assertThat(trackerSaw).containsExactly("GET /cluster");

      clock.addAndGet(TTL.toNanos() - 1);
      client.download(FID1);
      assertThat(trackerSaw).containsExactly("GET /cluster");

      clock.addAndGet(1);
      client.download(FID1);
      assertThat(trackerSaw).containsExactly("GET /cluster", "GET /cluster");
    }
    assertThat(member.saw).hasSize(66);
  }

  @Test
  void nodesAreStillAskedDirectlyWhileNoTrackerAnswers() throws IOException {
    startTracker();
    Node member = node("member", 200);
    view.set(cluster(group(1, true, member(member, "serving", 0)), group(2, true)));

    try (WimgClient client = client()) {
      client.download(FID1);
      standIns.stop(tracker);
      clock.addAndGet(TTL.toNanos());
      assertThat(client.download(FID1)).asString(StandardCharsets.UTF_8).isEqualTo("member");
      assertThat(client.upload(bytes("x"), null, null).fid()).isEqualTo("1-1,109c2ab3e");
    }
    assertThat(member.saw).hasSize(3);
  }

  @Test
  void aPlainServerIsUsedAsBeforeAndAskedForClusterOncePerTtl() throws IOException {
    List<String> saw = new CopyOnWriteArrayList<>();
    // Stand-in for a single server: no /cluster (404), files under its own URL.
    URI server = standIns.start(ex -> {
      saw.add(ex.getRequestMethod() + " " + ex.getRequestURI());
      String path = ex.getRequestURI().getPath();
      byte[] body = ex.getRequestBody().readAllBytes();
      if (path.equals("/cluster")) {
        reply(ex, 404, "{\"error\":\"no such resource\",\"status\":404}");
      } else if (ex.getRequestMethod().equals("POST")) {
        reply(ex, 201, ack(1, body.length));
      } else if (ex.getRequestMethod().equals("DELETE")) {
        reply(ex, 204, "");
      } else {
        reply(ex, 200, "single");
      }
    });

    try (WimgClient client = WimgClient.builder(server).writeKey(KEY).clusterViewTtl(TTL)
        .nanoClock(clock::get).build()) {
      String fid = client.upload(bytes("abc"), "a.txt", null).fid();
      assertThat(client.download(fid)).asString(StandardCharsets.UTF_8).isEqualTo("single");
      assertThat(client.delete(fid)).isTrue();
      assertThat(client.download(fid)).asString(StandardCharsets.UTF_8).isEqualTo("single");
      clock.addAndGet(TTL.toNanos());
      client.download(fid);
    }
    assertThat(saw).containsExactly("GET /cluster", "POST /files?name=a.txt", "GET /" + FID1,
        "DELETE /" + FID1, "GET /" + FID1, "GET /cluster", "GET /" + FID1);
  }

  @Test
  void withTheDirectPathOffEverythingGoesThroughTheTracker() throws IOException {
    startTracker();
    Node member = node("member", 200);
    view.set(cluster(group(1, true, member(member, "serving", 0))));

    try (WimgClient client = WimgClient.builder(tracker).directToNodes(false).build()) {
      assertThat(client.download(FID1)).asString(StandardCharsets.UTF_8).isEqualTo("elsewhere");
      client.upload(bytes("x"), null, null);
    }
    assertThat(trackerSaw).containsExactly("GET /" + FID1, "POST /files");
    assertThat(member.saw).isEmpty();
  }

  @Test
  void aClientOfHttpsUrlsSendsNothingDirectlyToAnHttpNode() {
    ClusterView cluster = ClusterView.parse(json(cluster(group(1, true,
        "{\"url\":\"http://127.0.0.1:9401\",\"state\":\"serving\",\"load\":0}",
        "{\"url\":\"https://node.example:9402/\",\"state\":\"serving\",\"load\":1}"))));

    assertThat(DirectRoutes.of(cluster, true).readers(1, url -> false))
        .containsExactly(URI.create("https://node.example:9402"));
    assertThat(DirectRoutes.of(cluster, false).readers(1, url -> false))
        .containsExactly(URI.create("http://127.0.0.1:9401"), URI.create("https://node.example:9402"));
  }

  // ---- stand-ins

  private WimgClient client() {
    return WimgClient.builder(tracker).writeKey(KEY).clusterViewTtl(TTL).nanoClock(clock::get).build();
  }

  /** A stand-in storage node, named by the body it answers reads with. */
  private static final class Node {
    final String name;
    final int status;
    /** Every request: method, path with query, Authorization, and an upload's body. */
    final List<String> saw = new CopyOnWriteArrayList<>();
    URI url;

    Node(String name, int status) {
      this.name = name;
      this.status = status;
    }
  }

  /** {@link #node(String, int, int)} acknowledging uploads in group 1. */
  private Node node(String name, int status) throws IOException {
    return node(name, status, 1);
  }

  /**
   * Starts a stand-in storage node answering every request with {@code status}: for 200, a read
   * gets {@code name} as its body, an upload an acknowledgement of a fid in {@code group}, a delete
   * 204; any other status gets a JSON error naming the node.
   */
  private Node node(String name, int status, int group) throws IOException {
    Node node = new Node(name, status);
    node.url = standIns.start(ex -> {
      byte[] body = ex.getRequestBody().readAllBytes();
      String method = ex.getRequestMethod();
      node.saw.add(method + " " + ex.getRequestURI() + " " + ex.getRequestHeaders().getFirst("Authorization")
          + (method.equals("POST") ? " " + new String(body, StandardCharsets.UTF_8) : ""));
      if (status != 200) {
        reply(ex, status, "{\"error\":\"" + name + " answers " + status + "\",\"status\":" + status + "}");
      } else if (method.equals("POST")) {
        reply(ex, 201, ack(group, body.length));
      } else if (method.equals("DELETE")) {
        reply(ex, 204, "");
      } else {
        reply(ex, 200, name);
      }
    });
    return node;
  }

  /**
   * Starts the stand-in tracker: {@code GET /cluster} answers {@link #view}, {@code POST /files}
   * an acknowledgement in group 1, a fid a {@code 307} to {@link #elsewhere}.
   */
  private void startTracker() throws IOException {
    elsewhere = node("elsewhere", 200);
    tracker = standIns.start(ex -> {
      trackerSaw.add(ex.getRequestMethod() + " " + ex.getRequestURI());
      byte[] body = ex.getRequestBody().readAllBytes();
      String path = ex.getRequestURI().getPath();
      if (path.equals("/cluster")) {
        reply(ex, 200, view.get());
      } else if (ex.getRequestMethod().equals("POST")) {
        reply(ex, 201, ack(1, body.length));
      } else {
        ex.getResponseHeaders().set("Location", elsewhere.url + path);
        ex.sendResponseHeaders(307, -1);
      }
    });
  }

  private static String cluster(String... groups) {
    return "{\"groups\":[" + String.join(",", groups) + "],\"trackers\":[]}";
  }

  private static String group(int id, boolean writable, String... members) {
    return "{\"id\":" + id + ",\"writable\":" + writable + ",\"members\":[" + String.join(",", members) + "]}";
  }

  private static String member(Node node, String state, int load) {
    return member(node.url, state, load);
  }

  private static String member(URI url, String state, int load) {
    return "{\"id\":\"n\",\"url\":\"" + url + "\",\"zone\":\"default\",\"state\":\"" + state
        + "\",\"freeBytes\":1000000,\"load\":" + load + ",\"needles\":0,\"silentMillis\":100}";
  }

  private static String ack(int group, int size) {
    String fid = group + "-1,109c2ab3e";
    return "{\"fid\":\"" + fid + "\",\"url\":\"/" + fid + "\",\"size\":" + size + ",\"mime\":null,\"etag\":\"\\\"1\\\"\"}";
  }

  private static com.fasterxml.jackson.databind.JsonNode json(String text) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().readTree(text);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void reply(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", body.startsWith("{") ? "application/json" : "application/octet-stream");
    ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      ex.getResponseBody().write(bytes);
    }
  }
}
