package dev.wimg.server.internal.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A task's coordinator: every node orders the trackers alike for a task (whatever order its
 * {@code --tracker} list has), tasks spread over the trackers, and a tracker removed moves only
 * the tasks it coordinated.
 */
class TrackerLinkTest {

  private static final List<URI> TRACKERS = List.of(URI.create("http://10.0.0.1:9330"),
      URI.create("http://10.0.0.2:9330"), URI.create("http://10.0.0.3:9330"));

  @Test
  void everyNodeFollowsTheSameTrackerAndTasksSpreadOverThem() {
    Map<URI, Integer> coordinated = new HashMap<>();
    for (int i = 0; i < 300; i++) {
      String id = "%032x".formatted(i * 7919L);
      List<URI> order = TrackerLink.rendezvous(id, TRACKERS);
      assertThat(order).containsExactlyInAnyOrderElementsOf(TRACKERS);
      assertThat(TrackerLink.rendezvous(id, TRACKERS.reversed())).as("another node's list order").isEqualTo(order);
      List<URI> spelled = List.of(URI.create("HTTP://10.0.0.3:9330/"), URI.create("http://10.0.0.1:9330"),
          URI.create("http://10.0.0.2:9330/x"));
      assertThat(TrackerLink.rendezvous(id, spelled).getFirst().getHost())
          .as("another node's spelling").isEqualTo(order.getFirst().getHost());
      coordinated.merge(order.getFirst(), 1, Integer::sum);
      // without the third tracker, a task it did not coordinate keeps its coordinator
      List<URI> fewer = TRACKERS.subList(0, 2);
      if (!order.getFirst().equals(TRACKERS.get(2))) {
        assertThat(TrackerLink.rendezvous(id, fewer).getFirst()).isEqualTo(order.getFirst());
      }
    }
    assertThat(coordinated).hasSize(3);
    assertThat(coordinated.values()).allSatisfy(n -> assertThat(n).isBetween(60, 140));
  }
}
