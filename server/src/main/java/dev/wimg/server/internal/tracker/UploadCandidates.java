package dev.wimg.server.internal.tracker;

import dev.wimg.protocol.Heartbeat;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The members that take uploads, by group, as of one moment, with the orders placement picks
 * from computed once: placement then costs the same with 1,000 groups as with one. Immutable.
 */
public final class UploadCandidates {

  /** No member takes uploads. */
  static final UploadCandidates NONE = new UploadCandidates(Map.of(), 0);

  private final long builtNanos;
  private final List<List<Heartbeat>> groups;
  private final List<List<Heartbeat>> roomiest;
  private final List<Heartbeat> leastLoadedGroup;

  /**
   * @param byGroup    the members that take uploads, by group id; each list non-empty
   * @param builtNanos when the members were read, {@link System#nanoTime()}
   */
  UploadCandidates(Map<Integer, List<Heartbeat>> byGroup, long builtNanos) {
    this.builtNanos = builtNanos;
    this.groups = List.copyOf(byGroup.values());
    long most = groups.stream().mapToLong(UploadCandidates::free).max().orElse(0);
    this.roomiest = groups.stream().filter(g -> free(g) >= most - most / 10).toList();
    this.leastLoadedGroup = groups.stream()
        .min(Comparator.comparingDouble(g -> g.stream().mapToInt(Heartbeat::load).average()
            .orElse(0)))
        .orElse(List.of());
  }

  /** A group is as full as its fullest member: every member holds every file of the group. */
  static long free(List<Heartbeat> group) {
    return group.stream().mapToLong(Heartbeat::freeBytes).min().orElse(0);
  }

  long builtNanos() {
    return builtNanos;
  }

  boolean isEmpty() {
    return groups.isEmpty();
  }

  /** Every group that takes uploads. */
  List<List<Heartbeat>> groups() {
    return groups;
  }

  /** The groups within a tenth of the most free space. */
  List<List<Heartbeat>> roomiest() {
    return roomiest;
  }

  /** The group whose members have the fewest requests in progress on average. */
  List<Heartbeat> leastLoadedGroup() {
    return leastLoadedGroup;
  }

  /** These candidates without the nodes in {@code excluded} (an upload's retry). */
  UploadCandidates without(Set<String> excluded) {
    if (excluded.isEmpty()) {
      return this;
    }
    Map<Integer, List<Heartbeat>> left = new java.util.TreeMap<>();
    for (List<Heartbeat> group : groups) {
      List<Heartbeat> members = new ArrayList<>();
      for (Heartbeat h : group) {
        if (!excluded.contains(h.node())) {
          members.add(h);
        }
      }
      if (!members.isEmpty()) {
        left.put(members.getFirst().group(), members);
      }
    }
    return new UploadCandidates(left, builtNanos);
  }
}
