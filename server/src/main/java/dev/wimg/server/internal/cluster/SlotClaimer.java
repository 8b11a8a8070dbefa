package dev.wimg.server.internal.cluster;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.protocol.ClusterKey;
import dev.wimg.protocol.SlotClaim;
import dev.wimg.protocol.SlotGrant;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks the trackers for a storage node's slot, once, on its first start ({@code POST
 * /cluster/slots}, docs/CLUSTER.md): each tracker in turn until one answers with a
 * {@link SlotGrant}; after a round with none, it waits (from {@link #FIRST_PAUSE}, doubling up to
 * {@link #LONGEST_PAUSE}) and asks again, until {@code deadline}. A tracker that answers 503 (no
 * majority of the trackers yet), does not answer, or fails is skipped for this round; an answer
 * that no retry changes (no slot left in the group, a refused cluster key) ends the claim at once.
 */
public final class SlotClaimer {

  private static final Logger LOG = LoggerFactory.getLogger(SlotClaimer.class);

  /** Longest one request waits: a tracker answers within its claim timeout (5 s) plus a margin. */
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
  /** Longest a connection to a tracker takes to open. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
  /** Pause after the first round in which no tracker gave a slot. */
  static final Duration FIRST_PAUSE = Duration.ofMillis(250);
  /** Longest pause between rounds. */
  static final Duration LONGEST_PAUSE = Duration.ofSeconds(2);
  /** How long a node tries by default before its start fails: trackers starting with it elect. */
  public static final Duration DEFAULT_DEADLINE = Duration.ofMinutes(2);

  private final List<URI> trackers;
  private final String clusterKey;
  private final ObjectMapper mapper = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  /**
   * @param trackers   the trackers, asked in this order
   * @param clusterKey the cluster key, or null
   */
  public SlotClaimer(List<URI> trackers, String clusterKey) {
    this.trackers = List.copyOf(trackers);
    this.clusterKey = clusterKey;
  }

  /**
   * The slot the trackers give {@code node} in {@code group}.
   *
   * @param clock    monotonic nanoseconds, as {@link System#nanoTime()}
   * @param deadline how long to go on asking
   * @throws IOException when no tracker gave a slot before the deadline, or one refused in a way
   *                     no retry changes; the message says which and why
   */
  public int claim(int group, String node, Duration deadline, LongSupplier clock)
      throws IOException, InterruptedException {
    byte[] body = mapper.writeValueAsBytes(new SlotClaim(group, node));
    long end = clock.getAsLong() + deadline.toNanos();
    Duration pause = FIRST_PAUSE;
    String last = "no tracker asked";
    try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(CONNECT_TIMEOUT).build()) {
      while (true) {
        for (URI tracker : trackers) {
          HttpRequest.Builder request = HttpRequest.newBuilder(tracker.resolve("/cluster/slots"))
              .timeout(REQUEST_TIMEOUT)
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofByteArray(body));
          if (clusterKey != null) {
            request.header(ClusterKey.HEADER, clusterKey);
          }
          HttpResponse<String> response;
          try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
          } catch (IOException e) {
            last = tracker + " unreachable (" + e.getClass().getSimpleName() + ")";
            continue;
          }
          int status = response.statusCode();
          if (status == 200) {
            SlotGrant grant = mapper.readValue(response.body(), SlotGrant.class);
            if (grant.group() != group || !grant.node().equals(node)) {
              throw new IOException(tracker + " answered a slot for group " + grant.group()
                  + " node " + grant.node() + ", not for group " + group + " node " + node);
            }
            LOG.info("tracker {} gives this node ({}) slot {} in group {}", tracker, node,
                grant.slot(), group);
            return grant.slot();
          }
          String reason = tracker + " answered " + status + ": "
              + TrackerAnswers.errorMessage(mapper, response.body());
          if (status == 409 || status == 401 || status == 400) {
            throw new IOException("no slot for this node: " + reason);
          }
          last = reason;
        }
        long left = end - clock.getAsLong();
        if (left <= 0) {
          throw new IOException("no tracker gave this node a slot within " + deadline.toSeconds()
              + " s; last: " + last + " (a slot needs a majority of the trackers running)");
        }
        LOG.warn("no slot yet ({}); asking again in {} ms", last, pause.toMillis());
        TimeUnit.NANOSECONDS.sleep(Math.min(pause.toNanos(), left));
        pause = pause.multipliedBy(2).compareTo(LONGEST_PAUSE) > 0 ? LONGEST_PAUSE
            : pause.multipliedBy(2);
      }
    }
  }

}
