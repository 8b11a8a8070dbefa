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
 * (any node, but one per slot), when a node is down, and which nodes take uploads (a group with
 * fewer live members than its uploads need copies takes none).
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

  private static Heartbeat beat(int group, String node, int slot, int copies) {
    return Heartbeat.of(group, node, slot, "http://" + node + ":1", "default", "serving", 100, 8, 0,
        0, List.of(), copies);
  }

  @Test
  void everyMemberOfAGroupIsAcceptedButNoTwoLiveNodesHoldOneSlot() {
    assertThat(map.heard(beat(1, "a", 1, 2))).isEqualTo(ClusterMap.Admission.ACCEPTED);
    assertThat(map.heard(beat(1, "b", 2, 2))).isEqualTo(ClusterMap.Admission.ACCEPTED);
    assertThat(map.heard(beat(1, "c", 3, 2))).isEqualTo(ClusterMap.Admission.ACCEPTED);
    // a copy of a's folder under another node id would write a's volumes
    Heartbeat impostor = beat(1, "d", 1, 2);
    assertThat(map.heard(impostor)).isEqualTo(ClusterMap.Admission.REFUSED);
    assertThat(map.slotHolder(impostor)).map(Heartbeat::node).contains("a");
    assertThat(uploadNodes()).containsExactlyInAnyOrder("a", "b", "c");
    // once a is down for good, the slot's holder is whoever heartbeats for it
    clock.addAndGet(DOWN_AFTER + 1);
    assertThat(map.heard(impostor)).isEqualTo(ClusterMap.Admission.ACCEPTED);
  }

  @Test
  void aGroupTakesUploadsOnlyWhileItHasAsManyLiveMembersAsItsUploadsNeedCopies() {
    map.heard(beat(1, "a", 1, 2));
    assertThat(uploadNodes()).as("a group of one needs one copy").containsExactly("a");
    map.heard(beat(1, "b", 2, 2));
    map.heard(beat(2, "c", 1, 2));
    assertThat(uploadNodes()).containsExactlyInAnyOrder("a", "b", "c");
    clock.addAndGet(3 * SECOND);
    map.heard(beat(1, "a", 1, 2));
    map.heard(beat(2, "c", 1, 2));
    clock.addAndGet(3 * SECOND); // b silent for 6 s: down
    map.heard(beat(1, "a", 1, 2));
    map.heard(beat(2, "c", 1, 2));
    assertThat(state(1, "b")).isEqualTo("down");
    assertThat(uploadNodes()).as("group 1 has one live member of the two copies it needs")
        .containsExactly("c");
    assertThat(map.view(List.of()).groups().getFirst().writable()).isFalse();
    assertThat(map.readers(1)).extracting(Heartbeat::node).containsExactly("a");
    assertThat(map.group(1).members()).hasSize(2);
    map.heard(beat(1, "b", 2, 2));
    assertThat(uploadNodes()).containsExactlyInAnyOrder("a", "b", "c");
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
