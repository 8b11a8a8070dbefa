package dev.wimg.server.internal.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.wimg.protocol.ClusterView;
import dev.wimg.server.internal.replication.Replication;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.protocol.ClusterKey;
import dev.wimg.protocol.Heartbeat;
import dev.wimg.protocol.MemberState;
import dev.wimg.server.internal.http.Membership;
import dev.wimg.server.internal.http.ServerContext;
import dev.wimg.storage.StoreStats;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A storage node's heartbeats: every {@code interval}, what the node is and holds goes to every
 * tracker at once ({@code POST /cluster/heartbeat}), each on its own: a tracker that does not
 * answer delays no other, and gets no new heartbeat while one is in flight to it. A tracker's yes opens the node's uploads, its
 * no (409) closes them ({@link Membership}); a tracker that does not answer changes nothing. Only
 * changes are logged, so a dead tracker does not fill the log.
 */
public final class Heartbeats implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Heartbeats.class);
  /** A heartbeat unanswered for this many intervals is given up (and the next one sent). */
  private static final int REQUEST_TIMEOUT_INTERVALS = 3;

  private final ServerContext server;
  private final NodeIdentity identity;
  private final String url;
  private final String zone;
  private final List<URI> trackers;
  private final String clusterKey;
  private final Duration interval;
  private final long reserveBytes;
  private final Membership membership;
  private final Replication replication;
  private final java.util.function.Consumer<dev.wimg.protocol.DistributionTask> offeredTasks;
  private final ObjectMapper mapper = new ObjectMapper()
      .configure(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
  private final HttpClient http;
  /** The last outcome logged per tracker; written from the HTTP client's completion threads. */
  private final Map<URI, String> lastOutcome = new java.util.concurrent.ConcurrentHashMap<>();
  /** Each tracker's heartbeat still in flight; read and written by the heartbeat thread only. */
  private final Map<URI, CompletableFuture<?>> inFlight = new HashMap<>();
  private final Thread thread;
  private volatile boolean closed;

  /**
   * Starts sending heartbeats at once.
   *
   * @param url          where clients and peers reach this node
   * @param clusterKey   the cluster key, or null
   * @param reserveBytes free space below which the node is read-only
   * @param offeredTasks takes each distribution task a tracker's answer offers this node
   */
  public Heartbeats(ServerContext server, NodeIdentity identity, String url, String zone,
                    List<URI> trackers, String clusterKey, Duration interval, long reserveBytes,
                    Membership membership, Replication replication,
                    java.util.function.Consumer<dev.wimg.protocol.DistributionTask> offeredTasks) {
    this.server = server;
    this.identity = identity;
    this.url = url;
    this.zone = zone;
    this.trackers = List.copyOf(trackers);
    this.clusterKey = clusterKey;
    this.interval = interval;
    this.reserveBytes = reserveBytes;
    this.membership = membership;
    this.replication = replication;
    this.offeredTasks = offeredTasks;
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(interval.multipliedBy(REQUEST_TIMEOUT_INTERVALS)).build();
    this.thread = Thread.ofPlatform().daemon().name("wimg-heartbeats").start(this::run);
  }

  private void run() {
    while (!closed) {
      long started = System.nanoTime();
      try {
        beat();
      } catch (RuntimeException e) {
        LOG.warn("heartbeat round failed", e);
      }
      long sleep = interval.toNanos() - (System.nanoTime() - started);
      if (sleep > 0) {
        try {
          TimeUnit.NANOSECONDS.sleep(sleep);
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  /** What this node tells the trackers now. */
  Heartbeat heartbeat() {
    StoreStats stats = server.store().stats();
    List<Integer> volumes = new ArrayList<>();
    boolean readOnly = false;
    for (StoreStats.VolumeStats v : stats.volumes()) {
      if (v.liveNeedles() + v.deletedNeedles() + v.damagedNeedles() > 0) {
        volumes.add(v.id());
      }
      readOnly |= v.needsCheck();
    }
    membership.space(stats.freeBytes(), reserveBytes);
    readOnly |= membership.lowSpace() != null;
    String state = replication.catchingUp() ? MemberState.CATCHING_UP.token()
        : readOnly ? MemberState.READ_ONLY.token() : MemberState.SERVING.token();
    return Heartbeat.of(identity.group(), identity.node(), identity.slot(), url, zone, state,
        stats.freeBytes(), stats.usedBytes(), stats.liveNeedles(),
        (int) Math.min(Integer.MAX_VALUE, server.inFlight().count()), volumes, replication.copies());
  }

  private void beat() {
    byte[] body;
    try {
      body = mapper.writeValueAsBytes(heartbeat());
    } catch (IOException e) {
      throw new IllegalStateException("cannot write a heartbeat", e);
    }
    for (URI tracker : trackers) {
      CompletableFuture<?> previous = inFlight.get(tracker);
      if (previous != null && !previous.isDone()) {
        // A tracker that does not answer (a dropped connection waits for its timeout) gets no
        // second heartbeat meanwhile, and does not hold up the heartbeats to the others.
        continue;
      }
      HttpRequest.Builder request = HttpRequest.newBuilder(tracker.resolve("/cluster/heartbeat"))
          .timeout(interval.multipliedBy(REQUEST_TIMEOUT_INTERVALS))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofByteArray(body));
      if (clusterKey != null) {
        request.header(ClusterKey.HEADER, clusterKey);
      }
      inFlight.put(tracker, http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString())
          .handle((response, failure) -> {
            answered(tracker, response, failure);
            return null;
          }));
    }
  }

  /** Applies a tracker's answer to the node's uploads; logs it when it differs from the last. */
  private void answered(URI tracker, HttpResponse<String> response, Throwable failure) {
    String outcome;
    if (failure != null) {
      Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
      outcome = "unreachable (" + cause.getClass().getSimpleName() + ")";
    } else if (response.statusCode() == 200) {
      membership.accepted();
      outcome = "accepted";
      try {
        JsonNode answer = mapper.readTree(response.body());
        JsonNode group = answer.get("group");
        if (group != null && !group.isNull()) {
          replication.group(mapper.treeToValue(group, ClusterView.Group.class));
        }
        for (JsonNode task : answer.path("tasks")) {
          offeredTasks.accept(mapper.treeToValue(task, dev.wimg.protocol.DistributionTask.class));
        }
      } catch (IOException | RuntimeException e) {
        outcome = "accepted, with a group that does not parse: " + e.getMessage();
      }
    } else if (response.statusCode() == 409) {
      String why = TrackerAnswers.errorMessage(mapper, response.body());
      membership.refused(why);
      outcome = "refused: " + why;
    } else {
      outcome = "answered " + response.statusCode() + ": " + TrackerAnswers.errorMessage(mapper, response.body());
    }
    if (!outcome.equals(lastOutcome.put(tracker, outcome))) {
      if (outcome.equals("accepted")) {
        LOG.info("tracker {} accepts this node ({}) as a member of group {}", tracker,
            identity.node(), identity.group());
      } else {
        LOG.warn("tracker {}: {}", tracker, outcome);
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    http.close();
  }
}
