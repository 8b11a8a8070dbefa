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
    return child("tracker.log", "tracker", "--port", Integer.toString(port), "--down-after", "2000",
        "--data", dir.resolve("tracker").toString(), "--raft", "127.0.0.1:" + raftPort);
  }

  private ChildServer storage(int group, URI tracker, String data) throws Exception {
    return child(data + ".log", "storage", "--group", Integer.toString(group), "--tracker",
        tracker.toString(), "--port", "0", "--data", dir.resolve(data).toString());
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
}
