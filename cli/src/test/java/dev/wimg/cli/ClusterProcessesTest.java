package dev.wimg.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.ServerSocket;
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

  private ChildServer storage(int group, URI tracker, String data) throws Exception {
    return child(data + ".log", "storage", "--group", Integer.toString(group), "--tracker",
        tracker.toString(), "--port", "0", "--data", dir.resolve(data).toString(), "--reserve",
        "0");
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

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  @Test
  void aStorageNodeKilledDuringUploadsLosesNoAcknowledgedFile() throws Exception {
    URI tracker = tracker(freePort(), freePort()).url();
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
    int port = freePort();
    int raftPort = freePort();
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
    URI tracker = tracker(freePort(), freePort()).url();
    storage(1, tracker, "one");
    storage(2, tracker, "two");
    await().atMost(SETTLE).until(() -> serving(tracker, 2));
    String servers = "http://127.0.0.1:" + freePort() + "," + tracker;
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
    int raftFirst = freePort();
    int raftSecond = freePort();
    ChildServer first = tracker("first", freePort(), raftFirst, "127.0.0.1:" + raftSecond);
    ChildServer second = tracker("second", freePort(), raftSecond, "127.0.0.1:" + raftFirst);
    String trackers = first.url() + "," + second.url();
    child("one.log", "storage", "--group", "1", "--tracker", trackers, "--port", "0", "--data",
        dir.resolve("one").toString(), "--reserve", "0");
    child("two.log", "storage", "--group", "2", "--tracker", trackers, "--port", "0", "--data",
        dir.resolve("two").toString(), "--reserve", "0");
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
}
