package dev.wimg.server.internal.tracker;

import dev.wimg.protocol.Heartbeat;
import dev.wimg.server.tracker.GroupPlacement;
import dev.wimg.server.tracker.MemberPlacement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/** Picks the storage node an upload goes to, among the members that take uploads now. */
public final class Placement {

  private final GroupPlacement groups;
  private final MemberPlacement members;
  private final AtomicLong turn = new AtomicLong();

  public Placement(GroupPlacement groups, MemberPlacement members) {
    this.groups = groups;
    this.members = members;
  }

  private static long free(List<Heartbeat> group) {
    return group.stream().mapToLong(Heartbeat::freeBytes).min().orElse(0);
  }

  /**
   * The node for an upload.
   *
   * @param candidates the members that take uploads, by group ({@link ClusterMap#uploadCandidates})
   * @param clientZone the client's zone, or null
   */
  public Optional<Heartbeat> choose(Map<Integer, List<Heartbeat>> candidates, String clientZone) {
    if (candidates.isEmpty()) {
      return Optional.empty();
    }
    List<Map.Entry<Integer, List<Heartbeat>>> entries = new ArrayList<>(candidates.entrySet());
    List<Heartbeat> group = switch (groups) {
      case ROUND_ROBIN -> entries.get((int) Math.floorMod(turn.getAndIncrement(), entries.size()))
          .getValue();
      case FREE_SPACE -> {
        // A group is as full as its fullest member: every member holds every file of the group.
        // Groups within a tenth of the most free space take turns: groups whose disks are alike
        // (or one disk, on one machine) would otherwise all wait while one group fills up.
        long most = entries.stream().mapToLong(e -> free(e.getValue())).max().orElse(0);
        List<List<Heartbeat>> roomiest = entries.stream()
            .filter(e -> free(e.getValue()) >= most - most / 10).map(Map.Entry::getValue).toList();
        yield roomiest.get((int) Math.floorMod(turn.getAndIncrement(), roomiest.size()));
      }
      case LEAST_LOAD -> entries.stream().min(Comparator.comparingDouble(
          (Map.Entry<Integer, List<Heartbeat>> e) -> e.getValue().stream()
              .mapToInt(Heartbeat::load).average().orElse(0))).orElseThrow().getValue();
    };
    Comparator<Heartbeat> leastLoad = Comparator.comparingInt(Heartbeat::load);
    if (members == MemberPlacement.NEAREST && clientZone != null) {
      Optional<Heartbeat> near = group.stream().filter(h -> h.zone().equals(clientZone))
          .min(leastLoad);
      if (near.isPresent()) {
        return near;
      }
    }
    return group.stream().min(leastLoad);
  }
}
