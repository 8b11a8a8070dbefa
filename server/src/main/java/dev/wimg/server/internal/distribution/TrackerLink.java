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
 * How one task's reports reach the trackers: to the tracker that answered last, else to each in
 * turn until one takes it. A tracker that does not know the task (it restarted) answers 409, and
 * the report goes again with the task's definition, from which the tracker learns it.
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
  private URI tracker;
  private long lastAnswerNanos = System.nanoTime();

  TrackerLink(DistributionTask task, NodeTasks.Node node, HttpClient http, ObjectMapper json) {
    this.task = task;
    this.node = node;
    this.http = http;
    this.json = json;
  }

  /**
   * Sends the report {@code report} makes (given the definition to carry, or null), and returns
   * the handout of the tracker that took it; null when none did.
   */
  PieceHandout report(Function<DistributionTask, TaskReport> report) throws InterruptedException {
    List<URI> order = new ArrayList<>(node.trackers());
    if (tracker != null) {
      order.remove(tracker);
      order.addFirst(tracker);
    }
    for (URI t : order) {
      DistributionTask definition = null;
      for (int attempt = 0; attempt < 2; attempt++) {
        HttpRequest.Builder request = HttpRequest.newBuilder(t.resolve("/tasks/" + task.id() + "/report"))
            .timeout(REPORT_TIMEOUT).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body(report.apply(definition))));
        if (node.clusterKey() != null) {
          request.header(ClusterKey.HEADER, node.clusterKey());
        }
        try {
          HttpResponse<byte[]> r = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
          if (r.statusCode() == 409 && definition == null) {
            definition = task; // the tracker does not know the task: tell it
            continue;
          }
          if (r.statusCode() != 200) {
            log.debug("tracker {} answered task {}'s report with {}", t, task.id(), r.statusCode());
            break;
          }
          tracker = t;
          lastAnswerNanos = System.nanoTime();
          return json.readValue(r.body(), PieceHandout.class);
        } catch (IOException | RuntimeException e) {
          log.debug("tracker {} did not take task {}'s report: {}", t, task.id(), e.toString());
          break;
        }
      }
    }
    return null;
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
