package dev.wimg.server.internal.tracker;

import dev.wimg.protocol.Heartbeat;
import dev.wimg.server.tracker.GroupPlacement;
import dev.wimg.server.tracker.MemberPlacement;
import java.util.List;
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

  /**
   * The node for an upload.
   *
   * @param candidates the members that take uploads ({@link ClusterMap#uploadCandidates})
   * @param clientZone the client's zone, or null
   */
  public Optional<Heartbeat> choose(UploadCandidates candidates, String clientZone) {
    if (candidates.isEmpty()) {
      return Optional.empty();
    }
    List<Heartbeat> group = switch (groups) {
      case ROUND_ROBIN -> pick(candidates.groups());
      // Groups within a tenth of the most free space take turns: groups whose disks are alike
      // (or one disk, on one machine) would otherwise all wait while one group fills up.
      case FREE_SPACE -> pick(candidates.roomiest());
      case LEAST_LOAD -> candidates.leastLoadedGroup();
    };
    Heartbeat best = null;
    for (Heartbeat h : group) {
      boolean near = members == MemberPlacement.NEAREST && clientZone != null;
      if (best == null || better(h, best, near ? clientZone : null)) {
        best = h;
      }
    }
    return Optional.ofNullable(best);
  }

  private List<Heartbeat> pick(List<List<Heartbeat>> choices) {
    return choices.get((int) Math.floorMod(turn.getAndIncrement(), choices.size()));
  }

  /** Whether {@code h} beats {@code best}: in the client's zone first (when given), then less load. */
  private static boolean better(Heartbeat h, Heartbeat best, String zone) {
    if (zone != null) {
      boolean hNear = h.zone().equals(zone);
      if (hNear != best.zone().equals(zone)) {
        return hNear;
      }
    }
    return h.load() < best.load();
  }
}
