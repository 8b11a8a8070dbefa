package dev.wimg.server;

import dev.wimg.server.tracker.TrackerConfig;
import dev.wimg.server.tracker.TrackerServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Trackers and storage nodes started in the test's JVM on ephemeral loopback ports, with their
 * folders under one test folder, and an HTTP client to talk to them. {@link #close} closes
 * everything still running, the last started first. Child processes are the cli module's ({@code
 * ClusterProcessesTest}).
 */
final class InProcessCluster implements AutoCloseable {

  /** How often the nodes started here heartbeat. */
  static final Duration HEARTBEAT_INTERVAL = Duration.ofMillis(100);

  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();
  private final Path dir;
  private final List<AutoCloseable> running = new ArrayList<>();

  InProcessCluster(Path dir) {
    this.dir = dir;
  }

  /** A tracker on an ephemeral port, its Raft folder {@code tracker-N} under the test folder. */
  TrackerServer tracker(TrackerConfig config) throws IOException {
    TrackerServer tracker = TrackerServer.start(config.withPort(0)
        .withDataDir(dir.resolve("tracker-" + running.size())), "test");
    running.add(tracker);
    return tracker;
  }

  /**
   * A storage node of {@code group} with its data in {@code data} under the test folder,
   * heartbeating to {@code tracker}, read-only below {@code reserveBytes} of free space.
   */
  StorageNode node(URI tracker, int group, String data, long reserveBytes) throws IOException {
    return node(tracker, group, data, reserveBytes, NodeConfig.DEFAULT_ZONE);
  }

  /** As {@link #node(URI, int, String, long)}, in {@code zone}. */
  StorageNode node(URI tracker, int group, String data, long reserveBytes, String zone) throws IOException {
    ServerConfig config = TestServer.config(dir.resolve(data));
    StorageNode node = StorageNode.start(config.withGroup(group),
        NodeConfig.of(List.of(tracker)).withHeartbeatInterval(HEARTBEAT_INTERVAL)
            .withReserveBytes(reserveBytes).withZone(zone)
            // pinned copies checked against their originals at every report of a done task (5 s)
            .withDistribution(NodeConfig.Distribution.DEFAULTS.withPinCheckInterval(Duration.ofSeconds(1))));
    running.add(node);
    return node;
  }

  /** Closes {@code started} now, half-way through a test. */
  void stop(AutoCloseable started) throws Exception {
    started.close();
    running.remove(started);
  }

  @Override
  public void close() throws Exception {
    for (AutoCloseable c : running.reversed()) {
      c.close();
    }
    running.clear();
    http.close();
  }
}
