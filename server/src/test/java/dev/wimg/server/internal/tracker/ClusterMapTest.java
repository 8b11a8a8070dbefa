package dev.wimg.server.internal.tracker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.protocol.ClusterView;
import dev.wimg.protocol.Heartbeat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The tracker's rules on its soft state, with a clock the test moves: who may be a group's member
 * (one per group until members replicate), when a node is down, and which nodes take uploads.
 */
class ClusterMapTest {

  private static final long SECOND = 1_000_000_000L;
  private static final long DOWN_AFTER = 5 * SECOND;

  private final AtomicLong clock = new AtomicLong(1_000 * SECOND);
  private final ClusterMap map = new ClusterMap(DOWN_AFTER, clock::get);

  private static Heartbeat beat(int group, String node, List<Integer> volumes) {
    return Heartbeat.of(group, node, 0, "http://" + node + ":1", "default", "serving", 100, 8, 0, 0,
        volumes);
  }

  private List<String> uploadNodes() {
    return map.uploadCandidates(Set.of()).groups().stream().flatMap(List::stream)
        .map(Heartbeat::node).toList();
  }

  private String state(int group, String node) {
    return map.view(List.of()).groups().stream().filter(g -> g.id() == group)
        .flatMap(g -> g.members().stream()).filter(m -> m.id().equals(node))
        .map(ClusterView.Member::state).findFirst().orElse("(absent)");
  }

  @Test
  void aFreshNodeWaitsOutTheTrackersFirstDownAfterAndASecondFreshNodeIsRefused() {
    assertThat(map.heard(beat(1, "a", List.of()))).isEqualTo(ClusterMap.Admission.REFUSED);
    assertThat(map.view(List.of()).groups()).isEmpty();
    clock.addAndGet(DOWN_AFTER + 1);
    assertThat(map.heard(beat(1, "a", List.of()))).isEqualTo(ClusterMap.Admission.ACCEPTED);
    assertThat(map.heard(beat(1, "b", List.of()))).isEqualTo(ClusterMap.Admission.REFUSED);
    assertThat(map.otherMember(1, "b")).map(Heartbeat::node).contains("a");
    assertThat(uploadNodes()).containsExactly("a");
  }

  @Test
  void aNodeHoldingVolumesIsAcceptedAtOnceAndReplacesAFreshMember() {
    clock.addAndGet(DOWN_AFTER + 1);
    assertThat(map.heard(beat(1, "fresh", List.of()))).isEqualTo(ClusterMap.Admission.ACCEPTED);
    assertThat(map.heard(beat(1, "old", List.of(1, 2)))).isEqualTo(ClusterMap.Admission.ACCEPTED);
    assertThat(map.heard(beat(1, "fresh", List.of()))).isEqualTo(ClusterMap.Admission.REFUSED);
    assertThat(uploadNodes()).containsExactly("old");
  }

  @Test
  void twoNodesHoldingVolumesPutTheirGroupInConflict() {
    assertThat(map.heard(beat(1, "a", List.of(1)))).isEqualTo(ClusterMap.Admission.ACCEPTED);
    assertThat(map.heard(beat(2, "c", List.of(1)))).isEqualTo(ClusterMap.Admission.ACCEPTED);
    assertThat(map.heard(beat(1, "b", List.of(1)))).isEqualTo(ClusterMap.Admission.REFUSED);
    assertThat(map.heard(beat(1, "a", List.of(1)))).isEqualTo(ClusterMap.Admission.REFUSED);
    assertThat(map.conflicted(1)).isTrue();
    assertThat(map.view(List.of()).groups().getFirst().writable()).isFalse();
    assertThat(uploadNodes()).containsExactly("c");
  }

  @Test
  void aSilentNodeIsDownAndTakesNoUploadsUntilItIsHeardAgain() {
    map.heard(beat(1, "a", List.of(1)));
    assertThat(uploadNodes()).containsExactly("a");
    clock.addAndGet(DOWN_AFTER + 1);
    assertThat(state(1, "a")).isEqualTo("down");
    assertThat(uploadNodes()).isEmpty();
    assertThat(map.readers(1)).isEmpty();
    map.heard(beat(1, "a", List.of(1)));
    assertThat(state(1, "a")).isEqualTo("serving");
    assertThat(uploadNodes()).containsExactly("a");
  }

  @Test
  void aNodeAnUploadFailedOnIsSkippedUntilItsNextHeartbeat() {
    map.heard(beat(1, "a", List.of(1)));
    map.heard(beat(2, "b", List.of(1)));
    map.failed(1, "a");
    assertThat(uploadNodes()).containsExactly("b");
    assertThat(map.readers(1)).as("a failed upload does not stop reads").hasSize(1);
    map.heard(beat(1, "a", List.of(1)));
    assertThat(uploadNodes()).containsExactlyInAnyOrder("a", "b");
    assertThat(map.uploadCandidates(Set.of("b")).groups().stream().flatMap(List::stream)
        .map(Heartbeat::node)).containsExactly("a");
  }
}
