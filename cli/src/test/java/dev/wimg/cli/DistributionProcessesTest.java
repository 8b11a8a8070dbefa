package dev.wimg.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.testsupport.RandomFiles;
import dev.wimg.testsupport.RequiresRoot;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Peer-assisted distribution between real processes on a real network: eight storage nodes, each
 * in its own network namespace whose sending side is capped at {@value #MBIT} Mbit/s
 * ({@link NetLab}), and a tracker on the bridge. Node 0 (group 1, zone {@code origin}) holds four
 * large files; nodes 1-7 (groups 2-8, zone {@code edge}) are started after, so every chunk stays in
 * group 1. Each file is distributed to zone {@code edge} by {@code wimg distribute --wait}:
 * <ol>
 *   <li>as it is: every copy identical, and node 0 sends about one copy (its qdisc's counter);</li>
 *   <li>a target killed with SIGKILL half-way and started again completes, fetching no more than
 *       the pieces it lacked plus two;</li>
 *   <li>the tracker killed with SIGKILL a second after the task starts: every target completes,
 *       finding pieces on the LAN (UDP multicast over the bridge) and the source sending less than
 *       2.5 copies, and the tracker, started again, learns the task back from the targets'
 *       reports;</li>
 *   <li>the source killed with SIGKILL once it has sent its one copy (every piece has left it):
 *       every target completes from its peers.</li>
 * </ol>
 */
@RequiresRoot("make network namespaces, a bridge and tc qdiscs")
class DistributionProcessesTest {

  private static final int NODES = 8;
  private static final int MBIT = 200;
  private static final int CHUNK = 8 << 20;
  /** Pieces of each file: 256 MiB, as the test names. */
  private static final int PIECES = 32;
  private static final long SIZE = (long) PIECES * CHUNK;
  private static final Duration SETTLE = Duration.ofSeconds(120);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String WRITE_KEY = "distribution-test-write-key";
  private static final String CLUSTER_KEY = "distribution-test-cluster-key";
  private static final URI TRACKER = URI.create("http://" + NetLab.HOST + ":9330");

  @TempDir
  Path dir;

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();
  private final List<ChildServer> children = new ArrayList<>();
  private NetLab lab;
  private ChildServer tracker;
  private final ChildServer[] nodes = new ChildServer[NODES];

  @AfterEach
  void stop() {
    children.forEach(ChildServer::close);
    if (lab != null) {
      lab.close();
    }
    http.close();
  }

  @Test
  void eightNodesInTheirOwnNamespacesGetFilesWhileTheSourceSendsThemAboutOnce() throws Exception {
    lab = NetLab.create(NODES, MBIT);
    tracker = startTracker();
    nodes[0] = startNode(0);
    await().atMost(SETTLE).until(() -> serving() == 1);
    String[] fids = new String[4];
    String[] sha = new String[4];
    for (int i = 0; i < fids.length; i++) {
      Path file = dir.resolve("file-" + i + ".bin");
      sha[i] = RandomFiles.write(file, SIZE, 40 + i);
      HttpResponse<String> stored = http.send(HttpRequest.newBuilder(node(0).resolve("/files?name=file-" + i + ".bin"))
          .header("Authorization", "Bearer " + WRITE_KEY).POST(HttpRequest.BodyPublishers.ofFile(file)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(stored.statusCode()).as(stored.body()).isEqualTo(201);
      fids[i] = JSON.readTree(stored.body()).get("fid").asText();
    }
    for (int n = 1; n < NODES; n++) {
      nodes[n] = startNode(n);
    }
    await().atMost(SETTLE).until(() -> serving() == NODES);

    // 1. as it is
    long sentBefore = lab.sentBytes(0);
    long started = System.nanoTime();
    CliRun run = distribute(fids[0]);
    double seconds = (System.nanoTime() - started) / 1e9;
    assertThat(run.exitCode()).as(run.toString()).isZero();
    double copies = (double) (lab.sentBytes(0) - sentBefore) / SIZE;
    System.out.printf("[distribution] %d MiB to %d nodes at %d Mbit/s each: %.1f s (one transfer %.1f s),"
        + " source sent %.2f copies%n", SIZE >> 20, NODES - 1, MBIT, seconds, SIZE * 8.0 / (MBIT * 1e6), copies);
    assertThat(copies).as("copies the source sent").isBetween(0.99, 1.3);
    assertCopies(fids[0], sha[0]);

    // 2. a target killed half-way, and started again
    String id = create(fids[1]);
    String victimId = nodeId(3);
    JsonNode atKill = await().atMost(SETTLE).until(() -> target(id, victimId),
        t -> t.path("pieces").asInt() >= PIECES / 2);
    nodes[3].kill9();
    int heldAtKill = atKill.get("pieces").asInt();
    assertThat(heldAtKill).as("killed before the end").isLessThan(PIECES);
    nodes[3] = startNode(3);
    awaitDone(id);
    long fetchedAfter = target(id, victimId).get("bytes").asLong();
    assertThat(fetchedAfter).as("bytes fetched after the restart, holding %d pieces", heldAtKill)
        .isLessThanOrEqualTo((long) (PIECES - heldAtKill + 2) * CHUNK);
    assertCopies(fids[1], sha[1]);

    // 3. the tracker killed a second after the task starts
    long lonelyBefore = lab.sentBytes(0);
    String lonely = create(fids[2]);
    Thread.sleep(1000);
    tracker.kill9();
    for (int n = 1; n < NODES; n++) {
      int node = n;
      await().atMost(SETTLE).until(() -> status(node(node).resolve("/" + fids[2])) == 200);
    }
    double lonelyCopies = (double) (lab.sentBytes(0) - lonelyBefore) / SIZE;
    System.out.printf("[distribution] without a tracker from 1 s on: source sent %.2f copies%n", lonelyCopies);
    // the pieces no peer had were fetched by one node each, mostly: far from the 7 copies of each
    // node fetching alone
    assertThat(lonelyCopies).as("copies the source sent with no tracker").isLessThan(2.5);
    assertCopies(fids[2], sha[2]);
    tracker = startTracker();
    await().atMost(SETTLE).until(() -> serving() == NODES);
    await().atMost(SETTLE).until(() -> http.send(HttpRequest.newBuilder(TRACKER.resolve("/tasks/" + lonely)).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
    awaitDone(lonely);

    // 4. the source killed once it has sent its copy: the "about 1.1 copies"; what it
    // sends beyond one copy (the end game's leases, up to 1.15 in all) starts only once every
    // piece has left it, so the moment the targets count one copy of verified source bytes is
    // the one where the rest must come from peers
    String orphaned = create(fids[3]);
    await().atMost(SETTLE).pollInterval(Duration.ofMillis(50))
        .until(() -> task(orphaned).path("sourceCopies").asDouble() >= 1.0);
    nodes[0].kill9();
    awaitDone(orphaned);
    assertCopies(fids[3], sha[3]);
  }

  private CliRun distribute(String fid) {
    return CliRun.run(Map.of(), dir, "distribute", fid, "--to", "zone:edge", "--wait", "--server", TRACKER.toString(),
        "--key", WRITE_KEY);
  }

  /** Creates a task without waiting for it; its id. */
  private String create(String fid) {
    CliRun run = CliRun.run(Map.of(), dir, "distribute", fid, "--to", "zone:edge", "--server", TRACKER.toString(),
        "--key", WRITE_KEY);
    assertThat(run.exitCode()).as(run.toString()).isZero();
    return run.out().trim();
  }

  private void awaitDone(String id) {
    await().atMost(SETTLE).until(() -> task(id).path("state").asText(), s -> !s.equals("running"));
    assertThat(task(id).path("state").asText()).as(task(id).toString()).isEqualTo("done");
  }

  /** Every target's copy, read whole from it, has the original's SHA-256. */
  private void assertCopies(String fid, String sha256) {
    List<CompletableFuture<String>> reads = new ArrayList<>();
    for (int n = 1; n < NODES; n++) {
      URI url = node(n).resolve("/" + fid);
      reads.add(CompletableFuture.supplyAsync(() -> {
        try (InputStream in = http.send(HttpRequest.newBuilder(url).build(), HttpResponse.BodyHandlers.ofInputStream())
            .body()) {
          return RandomFiles.digest(in).sha256();
        } catch (Exception e) {
          return url + ": " + e;
        }
      }));
    }
    for (int n = 1; n < NODES; n++) {
      assertThat(reads.get(n - 1).join()).as("the copy on node %d", n).isEqualTo(sha256);
    }
  }

  private JsonNode task(String id) {
    try {
      return JSON.readTree(http.send(HttpRequest.newBuilder(TRACKER.resolve("/tasks/" + id)).build(),
          HttpResponse.BodyHandlers.ofString()).body());
    } catch (Exception e) {
      return JSON.createObjectNode();
    }
  }

  private JsonNode target(String id, String node) {
    for (JsonNode t : task(id).path("targets")) {
      if (t.path("node").asText().equals(node)) {
        return t;
      }
    }
    return JSON.createObjectNode();
  }

  private String nodeId(int n) throws Exception {
    String url = node(n).toString();
    for (JsonNode g : JSON.readTree(http.send(HttpRequest.newBuilder(TRACKER.resolve("/cluster")).build(),
        HttpResponse.BodyHandlers.ofString()).body()).path("groups")) {
      for (JsonNode m : g.path("members")) {
        if (m.path("url").asText().equals(url)) {
          return m.path("id").asText();
        }
      }
    }
    throw new AssertionError("node " + n + " at " + url + " is not in the cluster view");
  }

  private int status(URI url) {
    try {
      return http.send(HttpRequest.newBuilder(url).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  private int serving() throws Exception {
    int n = 0;
    for (JsonNode g : JSON.readTree(http.send(HttpRequest.newBuilder(TRACKER.resolve("/cluster")).build(),
        HttpResponse.BodyHandlers.ofString()).body()).path("groups")) {
      for (JsonNode m : g.path("members")) {
        n += m.path("state").asText().equals("serving") ? 1 : 0;
      }
    }
    return n;
  }

  private static URI node(int n) {
    return URI.create("http://" + NetLab.address(n) + ":8080");
  }

  private ChildServer startTracker() throws Exception {
    ChildServer child = ChildServer.command(dir, dir.resolve("tracker.log"), "tracker", "--bind", NetLab.HOST,
        "--port", Integer.toString(TRACKER.getPort()), "--raft", NetLab.HOST + ":" + (TRACKER.getPort() + 1),
        "--raft-data", dir.resolve("tracker").toString(), "--down-after", "3000", "--cluster-key", CLUSTER_KEY,
        "--write-key", WRITE_KEY);
    children.add(child);
    return child;
  }

  private ChildServer startNode(int n) throws Exception {
    ChildServer child = ChildServer.inNamespace(NetLab.namespace(n), dir, dir.resolve("node-" + n + ".log"),
        "storage", "--group", Integer.toString(n + 1), "--zone", n == 0 ? "origin" : "edge", "--bind",
        NetLab.address(n), "--port", "8080", "--tracker", TRACKER.toString(), "--cluster-key", CLUSTER_KEY,
        "--write-key", WRITE_KEY, "--data", dir.resolve("node-" + n).toString(), "--reserve", "0");
    children.add(child);
    return child;
  }
}
