package dev.wimg.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster of real processes on 127.0.0.1: {@code wimg tracker} and two {@code wimg storage}
 * nodes (groups 1 and 2), each a child JVM, killed with {@code kill -9}. Uploads go through the
 * tracker as curl's would.
 *
 * <ul>
 *   <li>A storage node killed during uploads costs no upload: every one is acknowledged (the
 *       tracker sends the one in flight to the other group), and once the node is back every
 *       acknowledged file reads back byte-identical through the tracker's redirect.</li>
 *   <li>A tracker killed and started again knows the whole cluster again from heartbeats, and
 *       uploads go on.</li>
 *   <li>Of two trackers, one killed: every client goes on with the other.</li>
 *   <li>The CLI works through a real tracker.</li>
 *   <li>Two trackers, two groups of two members (every upload held by both members of its
 *       group): a member killed during 2,000 uploads by the Java client costs none of them; back,
 *       it catches up and then serves its whole group alone; both members of a group killed, its
 *       reads answer 503 at once and uploads go to the other group; one back, its reads work.</li>
 *   <li>A third member added to a group that holds files copies it from its peers, then serves
 *       every file with the other two gone.</li>
 *   <li>A byte flipped inside a needle on one member: {@code wimg verify --server} finds the
 *       difference, a read through that member answers the right bytes and repairs its copy, and
 *       verify is clean afterwards.</li>
 *   <li>A group of three with small volumes, one member down while three files in four are
 *       deleted: the writers vacuum, the live member follows at once (the deletes wait for it,
 *       none is refused), the member that was down replaces its copies when it returns; all three
 *       byte-identical, less than half the size, verify clean, and the returned member alone
 *       serves every file left and none deleted. A delete also drops the derived picture a third
 *       member made.</li>
 *   <li>A third member that missed uploads (frozen with SIGSTOP; two copies were enough) serves
 *       every one of them when asked, pulling its peers' tail at once.</li>
 * </ul>
 */
class ClusterProcessesTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration SETTLE = Duration.ofSeconds(90);
  private static final int UPLOADS = 200;
  private static final int CLIENTS = 4;

  @TempDir
  Path dir;

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();
  private final List<ChildServer> children = new ArrayList<>();

  @AfterEach
  void stop() {
    children.forEach(ChildServer::close);
    http.close();
  }

  private ChildServer child(String log, String... args) throws Exception {
    ChildServer child = ChildServer.command(dir, dir.resolve(log), args);
    children.add(child);
    return child;
  }

  private ChildServer tracker(int port, int raftPort) throws Exception {
    return tracker("tracker", port, raftPort);
  }

  /**
   * A tracker whose Raft log is in {@code name} under the test's folder; {@code raftPeers} are the
   * Raft addresses of the other trackers of its Raft group.
   */
  private ChildServer tracker(String name, int port, int raftPort, String... raftPeers)
      throws Exception {
    List<String> args = new ArrayList<>(List.of("tracker", "--port", Integer.toString(port),
        "--down-after", "2000", "--raft-data", dir.resolve(name).toString(), "--raft",
        "127.0.0.1:" + raftPort));
    for (String peer : raftPeers) {
      args.addAll(List.of("--raft-peer", peer));
    }
    return child(name + ".log", args.toArray(String[]::new));
  }

  /** Two trackers forming one Raft group, their Raft logs in {@code first} and {@code second}. */
  private List<ChildServer> twoTrackers(String first, String second) throws Exception {
    int raftFirst = NodeMetrics.freePort();
    int raftSecond = NodeMetrics.freePort();
    return List.of(tracker(first, NodeMetrics.freePort(), raftFirst, "127.0.0.1:" + raftSecond),
        tracker(second, NodeMetrics.freePort(), raftSecond, "127.0.0.1:" + raftFirst));
  }

  private ChildServer storage(int group, URI tracker, String data) throws Exception {
    return member(group, tracker.toString(), data);
  }

  private JsonNode cluster(URI tracker) throws Exception {
    return JSON.readTree(http.send(HttpRequest.newBuilder(tracker.resolve("/cluster")).build(),
        HttpResponse.BodyHandlers.ofString()).body());
  }

  private boolean serving(URI tracker, int groups) throws Exception {
    JsonNode view = cluster(tracker).get("groups");
    int writable = 0;
    for (JsonNode group : view) {
      writable += group.get("writable").asBoolean() ? 1 : 0;
    }
    return writable == groups;
  }

  private HttpResponse<String> upload(URI tracker, byte[] body) throws Exception {
    return http.send(HttpRequest.newBuilder(tracker.resolve("/files"))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** GET through the tracker: its 307, then the storage node's answer. */
  private byte[] read(URI tracker, String fid) throws Exception {
    HttpResponse<byte[]> redirect = http.send(HttpRequest.newBuilder(tracker.resolve("/" + fid))
        .build(), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(redirect.statusCode()).as("redirect for %s: %s", fid,
        new String(redirect.body(), StandardCharsets.UTF_8)).isEqualTo(307);
    URI location = URI.create(redirect.headers().firstValue("Location").orElseThrow());
    HttpResponse<byte[]> file = http.send(HttpRequest.newBuilder(location).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(file.statusCode()).as("GET %s", location).isEqualTo(200);
    return file.body();
  }

  @Test
  void aStorageNodeKilledDuringUploadsLosesNoAcknowledgedFile() throws Exception {
    URI tracker = tracker(NodeMetrics.freePort(), NodeMetrics.freePort()).url();
    ChildServer one = storage(1, tracker, "one");
    storage(2, tracker, "two");
    await().atMost(SETTLE).until(() -> serving(tracker, 2));

    // Four clients upload at once; the node is killed with uploads in flight on it.
    Map<String, byte[]> acknowledged = new java.util.concurrent.ConcurrentHashMap<>();
    List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
    try (java.util.concurrent.ExecutorService clients =
             java.util.concurrent.Executors.newFixedThreadPool(CLIENTS)) {
      for (int c = 0; c < CLIENTS; c++) {
        clients.submit(() -> {
          for (int i = next.getAndIncrement(); i < UPLOADS; i = next.getAndIncrement()) {
            byte[] body = ("file " + i + " ").repeat(1 + i % 50).getBytes(StandardCharsets.UTF_8);
            try {
              HttpResponse<String> answer = upload(tracker, body);
              if (answer.statusCode() == 201) {
                acknowledged.put(JSON.readTree(answer.body()).get("fid").asText(), body);
              } else {
                failures.add("upload " + i + ": " + answer.statusCode() + " " + answer.body());
              }
            } catch (Exception e) {
              failures.add("upload " + i + ": " + e);
            }
          }
          return null;
        });
      }
      await().atMost(SETTLE).until(() -> acknowledged.size() >= UPLOADS / 3);
      assertThat(one.kill9()).isEqualTo(137);
    }
    assertThat(failures).as("uploads not acknowledged").isEmpty();
    assertThat(acknowledged).hasSize(UPLOADS);
    long inGroupOne = acknowledged.keySet().stream().filter(f -> f.startsWith("1-")).count();
    assertThat(inGroupOne).as("uploads to group 1 before its node was killed").isPositive();

    storage(1, tracker, "one");
    await().atMost(SETTLE).until(() -> serving(tracker, 2));
    for (Map.Entry<String, byte[]> file : acknowledged.entrySet()) {
      assertThat(read(tracker, file.getKey())).as(file.getKey()).isEqualTo(file.getValue());
    }
  }

  @Test
  void aRestartedTrackerKnowsTheClusterAgainFromHeartbeats() throws Exception {
    int port = NodeMetrics.freePort();
    int raftPort = NodeMetrics.freePort();
    ChildServer first = tracker(port, raftPort);
    URI tracker = first.url();
    storage(1, tracker, "one");
    storage(2, tracker, "two");
    await().atMost(SETTLE).until(() -> serving(tracker, 2));
    HttpResponse<String> before = upload(tracker, "before".getBytes(StandardCharsets.UTF_8));
    assertThat(before.statusCode()).as(before.body()).isEqualTo(201);

    assertThat(first.kill9()).isEqualTo(137);
    tracker(port, raftPort);
    await().atMost(SETTLE).until(() -> serving(tracker, 2));
    HttpResponse<String> after = upload(tracker, "after".getBytes(StandardCharsets.UTF_8));
    assertThat(after.statusCode()).as(after.body()).isEqualTo(201);
    String fid = JSON.readTree(before.body()).get("fid").asText();
    assertThat(new String(read(tracker, fid), StandardCharsets.UTF_8)).isEqualTo("before");
  }

  /**
   * The CLI, given a dead URL and then the tracker: it reads the tracker's cluster view and
   * uploads, downloads and deletes on the storage nodes directly, and status prints the cluster
   * as a table.
   */
  @Test
  void theCliWorksThroughARealTracker() throws Exception {
    URI tracker = tracker(NodeMetrics.freePort(), NodeMetrics.freePort()).url();
    storage(1, tracker, "one");
    storage(2, tracker, "two");
    await().atMost(SETTLE).until(() -> serving(tracker, 2));
    String servers = "http://127.0.0.1:" + NodeMetrics.freePort() + "," + tracker;
    java.nio.file.Path file = java.nio.file.Files.writeString(dir.resolve("hello.txt"),
        "hello, cluster");

    CliRun up = CliRun.run(Map.of(), dir, "upload", "--json", "--server", servers,
        file.toString());
    assertThat(up.exitCode()).as(up.toString()).isZero();
    String fid = JSON.readTree(up.stdout()).get("fid").asText();

    CliRun down = CliRun.run(Map.of(), dir, "download", "--server", servers, fid);
    assertThat(down.exitCode()).as(down.toString()).isZero();
    assertThat(new String(down.stdout(), StandardCharsets.UTF_8)).isEqualTo("hello, cluster");

    CliRun status = CliRun.run(Map.of(), dir, "status", "--server", servers);
    assertThat(status.exitCode()).as(status.toString()).isZero();
    String table = new String(status.stdout(), StandardCharsets.UTF_8);
    assertThat(table).as(table).contains("serving").contains(tracker.toString());
    assertThat(table).as(table).contains("2 groups (2 writable), 2 members: 2 serving");
    assertThat(table.lines().filter(l -> l.contains("http://127.0.0.1:") && l.contains(" serving "))
        .count()).as(table).isEqualTo(2);

    CliRun rm = CliRun.run(Map.of(), dir, "rm", "--server", servers, fid);
    assertThat(rm.exitCode()).as(rm.toString()).isZero();
    CliRun gone = CliRun.run(Map.of(), dir, "download", "--server", servers, fid);
    assertThat(gone.exitCode()).as(gone.toString()).isEqualTo(ExitCode.NOT_FOUND.code());
  }

  /**
   * Two trackers, both given to the nodes and to the clients; one is killed with {@code kill -9}
   * half-way through uploads: every upload and download goes on, through the client that talks to
   * the nodes directly and through the one that goes through the trackers only.
   */
  @Test
  void aTrackerKilledLeavesTheOtherToServeEveryClient() throws Exception {
    List<ChildServer> pair = twoTrackers("first", "second");
    ChildServer first = pair.get(0);
    ChildServer second = pair.get(1);
    String trackers = first.url() + "," + second.url();
    member(1, trackers, "one");
    member(2, trackers, "two");
    await().atMost(SETTLE).until(() -> serving(first.url(), 2) && serving(second.url(), 2));

    List<URI> urls = List.of(first.url(), second.url());
    try (dev.wimg.client.WimgClient direct = dev.wimg.client.WimgClient.builder(urls).build();
         dev.wimg.client.WimgClient viaTrackers = dev.wimg.client.WimgClient.builder(urls)
             .directToNodes(false).build()) {
      Map<String, byte[]> stored = new java.util.HashMap<>();
      for (int i = 0; i < 40; i++) {
        if (i == 20) {
          assertThat(first.kill9()).isEqualTo(137);
        }
        dev.wimg.client.WimgClient client = i % 2 == 0 ? direct : viaTrackers;
        byte[] body = ("upload " + i).getBytes(StandardCharsets.UTF_8);
        stored.put(client.upload(body, "f" + i + ".txt", "text/plain").fid(), body);
      }
      for (Map.Entry<String, byte[]> file : stored.entrySet()) {
        assertThat(direct.download(file.getKey())).as(file.getKey()).isEqualTo(file.getValue());
        assertThat(viaTrackers.download(file.getKey())).as(file.getKey())
            .isEqualTo(file.getValue());
      }
    }
  }

  /**
   * A storage node of {@code group} heartbeating to {@code trackers} (comma-separated), its data in
   * {@code data}, its log {@code data-N.log} (a restarted node gets a log of its own).
   */
  private ChildServer member(int group, String trackers, String data, String... more) throws Exception {
    List<String> args = new ArrayList<>(List.of("storage", "--group", Integer.toString(group),
        "--tracker", trackers, "--port", "0", "--data", dir.resolve(data).toString(), "--reserve", "0"));
    args.addAll(List.of(more));
    return child(data + "-" + children.size() + ".log", args.toArray(String[]::new));
  }

  /** Members of {@code group} that the tracker shows in {@code state}. */
  private long members(URI tracker, int group, String state) throws Exception {
    for (JsonNode g : cluster(tracker).get("groups")) {
      if (g.get("id").asInt() == group) {
        long n = 0;
        for (JsonNode m : g.get("members")) {
          n += m.get("state").asText().equals(state) ? 1 : 0;
        }
        return n;
      }
    }
    return 0;
  }

  /** The state the tracker shows for the member reached at {@code url}. */
  private String stateOf(URI tracker, URI url) throws Exception {
    for (JsonNode g : cluster(tracker).get("groups")) {
      for (JsonNode m : g.get("members")) {
        if (URI.create(m.get("url").asText()).equals(url)) {
          return m.get("state").asText();
        }
      }
    }
    return "(absent)";
  }

  private HttpResponse<byte[]> get(URI uri) throws Exception {
    return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  /** Each volume's length on {@code node}, from its {@code /replica} listing. */
  private Map<Integer, Long> volumeEnds(URI node) throws Exception {
    Map<Integer, Long> ends = new java.util.TreeMap<>();
    for (JsonNode v : JSON.readTree(get(node.resolve("/replica")).body()).get("volumes")) {
      ends.put(v.get("id").asInt(), v.get("end").asLong());
    }
    return ends;
  }

  /** The bytes of volume {@code volume} in the data folder {@code data}, up to {@code end}. */
  private byte[] volumeBytes(String data, int group, int volume, long end) throws Exception {
    byte[] all = java.nio.file.Files.readAllBytes(dir.resolve(data).resolve(group + "-" + volume + ".dat"));
    return java.util.Arrays.copyOf(all, (int) end);
  }

  @Test
  void twoGroupsOfTwoLoseNothingWhenTheirMembersAreKilled() throws Exception {
    List<ChildServer> pair = twoTrackers("t1", "t2");
    ChildServer t1 = pair.get(0);
    ChildServer t2 = pair.get(1);
    String trackers = t1.url() + "," + t2.url();
    URI tracker = t1.url();
    ChildServer a1 = member(1, trackers, "1a");
    ChildServer b1 = member(1, trackers, "1b");
    ChildServer a2 = member(2, trackers, "2a");
    ChildServer b2 = member(2, trackers, "2b");
    await().atMost(SETTLE).until(() -> members(tracker, 1, "serving") == 2
        && members(tracker, 2, "serving") == 2 && serving(tracker, 2));

    int uploads = 2_000;
    Map<String, byte[]> acknowledged = new java.util.concurrent.ConcurrentHashMap<>();
    List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
    try (dev.wimg.client.WimgClient client = dev.wimg.client.WimgClient.builder(
        List.of(t1.url(), t2.url())).build();
         java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(8)) {
      for (int c = 0; c < 8; c++) {
        threads.submit(() -> {
          for (int i = next.getAndIncrement(); i < uploads; i = next.getAndIncrement()) {
            byte[] body = ("file " + i + " ").repeat(1 + i % 300).getBytes(StandardCharsets.UTF_8);
            try {
              acknowledged.put(client.upload(body, "f" + i, "text/plain").fid(), body);
            } catch (Exception e) {
              failures.add("upload " + i + ": " + e);
            }
          }
          return null;
        });
      }
      await().atMost(SETTLE).until(() -> acknowledged.size() >= 600);
      assertThat(b1.kill9()).isEqualTo(137);
      threads.shutdown();
      assertThat(threads.awaitTermination(5, java.util.concurrent.TimeUnit.MINUTES)).isTrue();
      assertThat(failures).as("uploads not acknowledged").isEmpty();
      assertThat(acknowledged).hasSize(uploads);
      for (Map.Entry<String, byte[]> file : acknowledged.entrySet()) {
        assertThat(client.download(file.getKey())).as(file.getKey()).isEqualTo(file.getValue());
      }
    }
    List<String> ofGroupOne = acknowledged.keySet().stream().filter(f -> f.startsWith("1-")).toList();
    assertThat(ofGroupOne).as("uploads to group 1").hasSizeGreaterThan(100);

    // back, the killed member catches up, then holds its group alone
    ChildServer back = member(1, trackers, "1b");
    await().atMost(SETTLE).until(() -> stateOf(tracker, back.url()).equals("serving"));
    assertThat(a1.kill9()).isEqualTo(137);
    for (String fid : ofGroupOne) {
      HttpResponse<byte[]> file = get(back.url().resolve("/" + fid));
      assertThat(file.statusCode()).as(fid).isEqualTo(200);
      assertThat(file.body()).as(fid).isEqualTo(acknowledged.get(fid));
    }

    // group 2's members hold byte-identical copies of each volume
    Map<Integer, Long> endsA = volumeEnds(a2.url());
    assertThat(volumeEnds(b2.url())).isEqualTo(endsA);
    // the client sends a group's uploads to its least loaded member, so one or both members may
    // have written volumes here (both writing at once is TrackerTest's case)
    assertThat(endsA).isNotEmpty();
    for (Map.Entry<Integer, Long> v : endsA.entrySet()) {
      assertThat(volumeBytes("2b", 2, v.getKey(), v.getValue())).as("volume %d", v.getKey())
          .isEqualTo(volumeBytes("2a", 2, v.getKey(), v.getValue()));
    }

    // both members of group 1 gone: its reads are a quick 503, uploads go to group 2
    assertThat(back.kill9()).isEqualTo(137);
    String probe = ofGroupOne.getFirst();
    await().atMost(SETTLE).until(() -> get(tracker.resolve("/" + probe)).statusCode() == 503);
    long started = System.nanoTime();
    HttpResponse<byte[]> unavailable = get(tracker.resolve("/" + probe));
    assertThat(unavailable.statusCode()).isEqualTo(503);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
    assertThat(JSON.readTree(unavailable.body()).get("error").asText()).contains("group 1");
    for (int i = 0; i < 10; i++) {
      HttpResponse<String> stored = upload(tracker, ("later " + i).getBytes(StandardCharsets.UTF_8));
      assertThat(stored.statusCode()).as(stored.body()).isEqualTo(201);
      assertThat(JSON.readTree(stored.body()).get("fid").asText()).startsWith("2-");
    }

    // one back: the group's reads work again
    member(1, trackers, "1a");
    await().atMost(SETTLE).until(() -> get(tracker.resolve("/" + probe)).statusCode() == 307);
    for (String fid : ofGroupOne) {
      assertThat(read(tracker, fid)).as(fid).isEqualTo(acknowledged.get(fid));
    }
  }

  @Test
  void aThirdMemberCopiesItsGroupFromItsPeersThenServesEveryFile() throws Exception {
    URI tracker = tracker(NodeMetrics.freePort(), NodeMetrics.freePort()).url();
    ChildServer a = member(1, tracker.toString(), "a");
    ChildServer b = member(1, tracker.toString(), "b");
    await().atMost(SETTLE).until(() -> members(tracker, 1, "serving") == 2 && serving(tracker, 1));
    Map<String, byte[]> stored = new java.util.HashMap<>();
    for (int i = 0; i < 300; i++) {
      byte[] body = ("picture " + i + " ").repeat(1 + i).getBytes(StandardCharsets.UTF_8);
      URI node = (i % 2 == 0 ? a : b).url();
      HttpResponse<String> answer = upload(node, body);
      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(201);
      stored.put(JSON.readTree(answer.body()).get("fid").asText(), body);
    }
    assertThat(stored.keySet().stream().map(f -> f.substring(0, f.indexOf(','))).distinct())
        .as("files in the volumes of both members").hasSize(2);

    ChildServer c = member(1, tracker.toString(), "c");
    await().atMost(SETTLE).until(() -> stateOf(tracker, c.url()).equals("serving"));
    assertThat(volumeEnds(c.url())).isEqualTo(volumeEnds(a.url()));
    assertThat(a.kill9()).isEqualTo(137);
    assertThat(b.kill9()).isEqualTo(137);
    for (Map.Entry<String, byte[]> file : stored.entrySet()) {
      HttpResponse<byte[]> got = get(c.url().resolve("/" + file.getKey()));
      assertThat(got.statusCode()).as(file.getKey()).isEqualTo(200);
      assertThat(got.body()).as(file.getKey()).isEqualTo(file.getValue());
    }
  }

  @Test
  void aFlippedByteOnOneMemberIsReadFromItsPeerAndRepaired() throws Exception {
    URI tracker = tracker(NodeMetrics.freePort(), NodeMetrics.freePort()).url();
    ChildServer a = member(1, tracker.toString(), "a");
    ChildServer b = member(1, tracker.toString(), "b");
    await().atMost(SETTLE).until(() -> members(tracker, 1, "serving") == 2 && serving(tracker, 1));
    byte[] body = "a picture that one disk will damage ".repeat(100).getBytes(StandardCharsets.UTF_8);
    HttpResponse<String> answer = upload(a.url(), body);
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(201);
    String fid = JSON.readTree(answer.body()).get("fid").asText();
    CliRun clean = CliRun.run(Map.of(), dir, "verify", "--server", b.url().toString());
    assertThat(clean.exitCode()).as(clean.toString()).isZero();

    // one bit of the payload flipped in b's copy, under the running node
    Path volume = dir.resolve("b").resolve(fid.substring(0, fid.indexOf(',')) + ".dat");
    byte[] bytes = java.nio.file.Files.readAllBytes(volume);
    int found = CliEndToEndTest.indexOf(bytes, body);
    assertThat(found).as("the payload in %s", volume).isNotNegative();
    int at = found + body.length / 2;
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(volume,
        java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(new byte[] {(byte) (bytes[at] ^ 0x10)}), at);
    }
    CliRun damaged = CliRun.run(Map.of(), dir, "verify", "--server", b.url().toString());
    assertThat(damaged.exitCode()).as(damaged.toString()).isEqualTo(ExitCode.CORRUPT.code());
    assertThat(new String(damaged.stdout(), StandardCharsets.UTF_8)).contains("differ");

    HttpResponse<byte[]> read = get(b.url().resolve("/" + fid));
    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(read.body()).isEqualTo(body);
    CliRun repaired = CliRun.run(Map.of(), dir, "verify", "--server", b.url().toString());
    assertThat(repaired.exitCode()).as(repaired.toString()).isZero();
    assertThat(java.nio.file.Files.readAllBytes(volume)[at]).isEqualTo(bytes[at]);
  }

  /** A small PNG (real pixels, decoded by the image engine). */
  private static byte[] png(int seed) throws Exception {
    java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(64, 48,
        java.awt.image.BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 48; y++) {
      for (int x = 0; x < 64; x++) {
        image.setRGB(x, y, (x * 4 + seed) << 16 | (y * 5) << 8 | seed * 7 & 0xff);
      }
    }
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    javax.imageio.ImageIO.write(image, "png", out);
    return out.toByteArray();
  }

  private long derivedPictures(URI node) throws Exception {
    return JSON.readTree(get(node.resolve("/status")).body()).path("imaging").path("derived")
        .path("count").asLong(-1);
  }

  /** Each volume's revision on {@code node}, from its {@code /replica} listing. */
  private Map<Integer, Integer> volumeRevisions(URI node) throws Exception {
    Map<Integer, Integer> revisions = new java.util.TreeMap<>();
    for (JsonNode v : JSON.readTree(get(node.resolve("/replica")).body()).get("volumes")) {
      revisions.put(v.get("id").asInt(), v.get("revision").asInt());
    }
    return revisions;
  }

  private HttpResponse<String> delete(URI node, String fid) throws Exception {
    return http.send(HttpRequest.newBuilder(node.resolve("/" + fid)).DELETE().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Vacuum in a group of three: each member vacuums the volumes it writes once deletes leave
   * enough garbage, and the others replace their copies by the new revision, a member that was
   * down included, so that all copies are byte-identical again and much smaller. A delete also
   * removes the file's derived pictures on the member that made them, which is not the one that
   * took the delete.
   */
  @Test
  void aVacuumByTheWriterIsFollowedByEveryCopyAndDeletesReachDerivedPictures() throws Exception {
    URI tracker = tracker(NodeMetrics.freePort(), NodeMetrics.freePort()).url();
    String[] small = {"--volume-size", "1m"};
    ChildServer a = member(1, tracker.toString(), "a", small);
    ChildServer b = member(1, tracker.toString(), "b", small);
    ChildServer c = member(1, tracker.toString(), "c", small);
    await().atMost(SETTLE).until(() -> members(tracker, 1, "serving") == 3 && serving(tracker, 1));

    // a picture written by a, whose derived picture b makes, deleted through c
    HttpResponse<String> picture = upload(a.url(), png(3));
    assertThat(picture.statusCode()).as(picture.body()).isEqualTo(201);
    String pictureFid = JSON.readTree(picture.body()).get("fid").asText();
    HttpResponse<byte[]> thumb = get(b.url().resolve("/" + pictureFid + "?w=16"));
    assertThat(thumb.statusCode()).isEqualTo(200);
    await().atMost(SETTLE).until(() -> derivedPictures(b.url()) == 1);
    HttpResponse<String> gone = delete(c.url(), pictureFid);
    assertThat(gone.statusCode()).as(gone.body()).isEqualTo(204);
    await().atMost(SETTLE).until(() -> derivedPictures(b.url()) == 0);

    // 4.3 MB written by a and by c, spread over three 1 MiB volumes each
    Map<String, byte[]> stored = new java.util.LinkedHashMap<>();
    for (int i = 0; i < 800; i++) {
      byte[] body = ("file " + i + " ").repeat(600 + i % 7).getBytes(StandardCharsets.UTF_8);
      HttpResponse<String> answer = upload((i % 2 == 0 ? a : c).url(), body);
      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(201);
      stored.put(JSON.readTree(answer.body()).get("fid").asText(), body);
    }
    await().atMost(SETTLE).until(() -> volumeEnds(b.url()).equals(volumeEnds(a.url())));

    // b down; three files in four deleted (each through a member that is not its writer half the
    // time): the writers vacuum their volumes as the garbage passes 30 %
    assertThat(b.kill9()).isEqualTo(137);
    await().atMost(SETTLE).until(() -> stateOf(tracker, b.url()).equals("down"));
    Map<Integer, Long> before = volumeEnds(a.url());
    List<String> deleted = new ArrayList<>();
    int n = 0;
    for (String fid : stored.keySet()) {
      if (n++ % 4 != 0) {
        HttpResponse<String> answer = delete((n % 2 == 0 ? a : c).url(), fid);
        assertThat(answer.statusCode()).as("DELETE %s: %s", fid, answer.body()).isEqualTo(204);
        deleted.add(fid);
      }
    }
    await().atMost(SETTLE).until(() -> volumeRevisions(a.url()).entrySet().stream()
        .filter(v -> v.getValue() > 0).map(v -> v.getKey() >> 16).distinct().count() == 2);
    await().atMost(SETTLE).until(() -> volumeEnds(c.url()).equals(volumeEnds(a.url()))
        && volumeRevisions(c.url()).equals(volumeRevisions(a.url())));

    // b back: it replaces its old copies by the vacuumed revisions, then all three agree
    ChildServer back = member(1, tracker.toString(), "b", small);
    await().atMost(SETTLE).until(() -> stateOf(tracker, back.url()).equals("serving"));
    await().atMost(SETTLE).until(() -> volumeEnds(back.url()).equals(volumeEnds(a.url()))
        && volumeRevisions(back.url()).equals(volumeRevisions(a.url())));
    Map<Integer, Long> after = volumeEnds(a.url());
    long usedBefore = before.values().stream().mapToLong(Long::longValue).sum();
    long usedAfter = after.values().stream().mapToLong(Long::longValue).sum();
    assertThat(usedAfter).as("bytes held after the vacuums (before: %d)", usedBefore)
        .isLessThan(usedBefore / 2);
    for (Map.Entry<Integer, Long> v : after.entrySet()) {
      byte[] writer = volumeBytes("a", 1, v.getKey(), v.getValue());
      assertThat(volumeBytes("b", 1, v.getKey(), v.getValue())).as("volume %d", v.getKey()).isEqualTo(writer);
      assertThat(volumeBytes("c", 1, v.getKey(), v.getValue())).as("volume %d", v.getKey()).isEqualTo(writer);
    }
    CliRun verify = CliRun.run(Map.of(), dir, "verify", "--server", back.url().toString());
    assertThat(verify.exitCode()).as(verify.toString()).isZero();

    // b alone serves what is left, and none of what was deleted
    assertThat(a.kill9()).isEqualTo(137);
    assertThat(c.kill9()).isEqualTo(137);
    for (Map.Entry<String, byte[]> file : stored.entrySet()) {
      HttpResponse<byte[]> got = get(back.url().resolve("/" + file.getKey()));
      if (deleted.contains(file.getKey())) {
        assertThat(got.statusCode()).as(file.getKey()).isEqualTo(404);
      } else {
        assertThat(got.statusCode()).as(file.getKey()).isEqualTo(200);
        assertThat(got.body()).as(file.getKey()).isEqualTo(file.getValue());
      }
    }
  }

  private static void signal(ChildServer child, String signal) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(child.pid())).start();
    assertThat(kill.waitFor()).as("kill -%s %d", signal, child.pid()).isZero();
  }

  /**
   * A member that lags (a group of three, two copies per upload: the third member was frozen
   * with SIGSTOP while uploads went on, and its catch-up passes are rare) answers every read of
   * a file its group acknowledged: it pulls the volume's tail from a peer at once, never a 404.
   */
  @Test
  void aMemberThatLagsPullsAFileItLacksForItsRead() throws Exception {
    URI tracker = tracker(NodeMetrics.freePort(), NodeMetrics.freePort()).url();
    ChildServer a = member(1, tracker.toString(), "a");
    member(1, tracker.toString(), "b");
    ChildServer c = member(1, tracker.toString(), "c", "--catch-up-every", "600000");
    await().atMost(SETTLE).until(() -> members(tracker, 1, "serving") == 3 && serving(tracker, 1));

    signal(c, "STOP");
    Map<String, byte[]> stored = new java.util.LinkedHashMap<>();
    try {
      await().atMost(SETTLE).until(() -> stateOf(tracker, c.url()).equals("down"));
      // and a knows it (from its next heartbeat's answer): until then its copies to c still go
      // into c's socket buffers, and c would find them there when it goes on, with no pull
      await().atMost(SETTLE).until(() -> JSON.readTree(get(a.url().resolve("/status")).body())
          .path("replication").path("unreachablePeers").asInt() >= 1);
      for (int i = 0; i < 50; i++) {
        byte[] body = ("uploaded while c was frozen " + i + " ").repeat(1 + i).getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> answer = upload(a.url(), body);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(201);
        stored.put(JSON.readTree(answer.body()).get("fid").asText(), body);
      }
    } finally {
      signal(c, "CONT");
    }
    await().atMost(SETTLE).until(() -> stateOf(tracker, c.url()).equals("serving"));
    for (Map.Entry<String, byte[]> file : stored.entrySet()) {
      HttpResponse<byte[]> got = get(c.url().resolve("/" + file.getKey()));
      assertThat(got.statusCode()).as(file.getKey()).isEqualTo(200);
      assertThat(got.body()).as(file.getKey()).isEqualTo(file.getValue());
    }
    JsonNode replication = JSON.readTree(get(c.url().resolve("/status")).body()).get("replication");
    assertThat(replication.get("pulledOnRead").asLong()).as(replication.toString()).isPositive();
    // a fid no member holds is still a 404, not a hang
    String first = stored.keySet().iterator().next();
    String unknown = first.substring(0, first.indexOf(',') + 1) + "ffffff00000001";
    assertThat(get(c.url().resolve("/" + unknown)).statusCode()).isEqualTo(404);
  }
}
