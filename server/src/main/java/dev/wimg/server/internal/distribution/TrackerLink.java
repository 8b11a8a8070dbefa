package dev.wimg.server.internal.distribution;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.protocol.ClusterKey;
import dev.wimg.protocol.DistributionTask;
import dev.wimg.protocol.PieceHandout;
import dev.wimg.protocol.TaskReport;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How one task's reports reach the trackers: to every tracker at once. A tracker that does not
 * know the task (it restarted, or the task was made on another) answers 409, and the report goes
 * to it again with the task's definition, from which it learns the task. The handout followed is
 * the task's <em>coordinator</em>'s: the first tracker that answers in the task's rendezvous order
 * (trackers by a hash of the task id and their URL), so every target of a task follows the same
 * tracker while it answers, and only its source leases are used; tasks spread over the trackers.
 *
 * <p>Not thread-safe: one task's reports are sent one at a time.
 */
final class TrackerLink {

  private static final Logger log = LoggerFactory.getLogger(TrackerLink.class);
  private static final Duration REPORT_TIMEOUT = Duration.ofSeconds(2);

  private final DistributionTask task;
  private final NodeTasks.Node node;
  private final HttpClient http;
  private final ObjectMapper json;
  /** The trackers, the task's coordinator first while it answers. */
  private final List<URI> order;
  private long lastAnswerNanos = System.nanoTime();

  TrackerLink(DistributionTask task, NodeTasks.Node node, HttpClient http, ObjectMapper json) {
    this.task = task;
    this.node = node;
    this.http = http;
    this.json = json;
    this.order = rendezvous(task.id(), node.trackers());
  }

  /**
   * {@code trackers} in the rendezvous order of task {@code id}: by the first 8 bytes of the
   * SHA-256 of the id and the tracker's {@link #origin}, highest first. Every node computes the same order,
   * and a tracker added or gone moves only the tasks it coordinates or takes.
   */
  static List<URI> rendezvous(String id, List<URI> trackers) {
    java.util.Map<URI, Long> weight = new java.util.HashMap<>();
    for (URI t : trackers) {
      try {
        byte[] hash = java.security.MessageDigest.getInstance("SHA-256")
            .digest((id + " " + origin(t)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        weight.put(t, java.nio.ByteBuffer.wrap(hash).getLong());
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException("every Java platform has SHA-256", e);
      }
    }
    List<URI> ordered = new ArrayList<>(trackers);
    ordered.sort(java.util.Comparator.<URI>comparingLong(weight::get).reversed());
    return List.copyOf(ordered);
  }

  /**
   * A tracker URL as every node spells it: scheme and host in lower case, the port always given,
   * no path ({@code HTTP://T:80/} and {@code http://t} alike), so that nodes agree on a task's
   * coordinator however their {@code --tracker} lists write it.
   */
  static String origin(URI tracker) {
    String scheme = tracker.getScheme() == null ? "http" : tracker.getScheme().toLowerCase(java.util.Locale.ROOT);
    int port = tracker.getPort() >= 0 ? tracker.getPort() : scheme.equals("https") ? 443 : 80;
    String host = tracker.getHost() == null ? String.valueOf(tracker)
        : tracker.getHost().toLowerCase(java.util.Locale.ROOT);
    return scheme + "://" + host + ":" + port;
  }

  /**
   * Sends the report {@code report} makes (given the definition to carry, or null) to every
   * tracker at once, so that each knows the task (whichever a client asks) and a cancel made on
   * any reaches the node. The pieces to fetch are those of one tracker alone, the first in the
   * task's rendezvous order that answers: two trackers' source leases would send pieces twice.
   *
   * @return that tracker's handout, marked {@code cancel} if any tracker cancelled the task; null
   *     when none answered
   */
  PieceHandout report(Function<DistributionTask, TaskReport> report) throws InterruptedException {
    byte[] plain = body(report.apply(null));
    java.util.Map<URI, java.util.concurrent.CompletableFuture<HttpResponse<byte[]>>> sent =
        new java.util.LinkedHashMap<>();
    for (URI t : order) {
      sent.put(t, send(t, plain));
    }
    long deadline = System.nanoTime() + REPORT_TIMEOUT.toNanos();
    PieceHandout chosen = null;
    boolean cancel = false;
    for (URI t : order) {
      HttpResponse<byte[]> r = await(sent.get(t), deadline);
      if (r != null && r.statusCode() == 409) {
        // the tracker does not know the task (it restarted, or never had it): tell it
        r = await(send(t, body(report.apply(task))), System.nanoTime() + REPORT_TIMEOUT.toNanos());
      }
      if (r == null || r.statusCode() != 200) {
        if (r != null) {
          log.debug("tracker {} answered task {}'s report with {}", t, task.id(), r.statusCode());
        }
        continue;
      }
      PieceHandout h;
      try {
        h = json.readValue(r.body(), PieceHandout.class);
      } catch (IOException | RuntimeException e) {
        log.debug("tracker {} answered task {}'s report with no handout: {}", t, task.id(), e.toString());
        continue;
      }
      cancel |= h.cancel();
      if (chosen == null) {
        chosen = h;
      }
    }
    if (chosen == null) {
      return null;
    }
    lastAnswerNanos = System.nanoTime();
    return cancel && !chosen.cancel() ? new PieceHandout(PieceHandout.VERSION, chosen.next(), List.of(), true) : chosen;
  }

  private java.util.concurrent.CompletableFuture<HttpResponse<byte[]>> send(URI t, byte[] body) {
    HttpRequest.Builder request = HttpRequest.newBuilder(t.resolve("/tasks/" + task.id() + "/report"))
        .timeout(REPORT_TIMEOUT).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (node.clusterKey() != null) {
      request.header(ClusterKey.HEADER, node.clusterKey());
    }
    return http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  /** The answer, or null when it failed or did not come by {@code deadline}. */
  private HttpResponse<byte[]> await(java.util.concurrent.CompletableFuture<HttpResponse<byte[]>> answer,
                                     long deadline) throws InterruptedException {
    try {
      return answer.get(Math.max(0, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      answer.cancel(true);
      log.debug("a tracker did not take task {}'s report: {}", task.id(), e.toString());
      return null;
    }
  }

  /** The task whose reports these are. */
  DistributionTask task() {
    return task;
  }

  /** {@link System#nanoTime()} when a tracker last took a report (or this link was made). */
  long lastAnswerNanos() {
    return lastAnswerNanos;
  }

  private byte[] body(TaskReport report) {
    try {
      return json.writeValueAsBytes(report);
    } catch (IOException e) {
      throw new IllegalStateException("a task report always has a JSON form", e);
    }
  }
}
