package dev.wimg.server.internal.tracker;

import dev.wimg.protocol.ClusterView;
import dev.wimg.protocol.Heartbeat;
import dev.wimg.protocol.MemberState;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * What a tracker knows of the cluster: the last heartbeat of every storage node, by group. Soft
 * state only: a restarted tracker knows everything again after one heartbeat round.
 *
 * <p>A node whose heartbeats stop for {@code downAfter} is shown {@code down} and gets no uploads;
 * it is kept (a person wants to see it) until the tracker restarts. An upload that failed on a
 * node makes the tracker skip it until its next heartbeat.
 *
 * <p>Until members of a group replicate to each other (docs/CLUSTER.md), a group has one member,
 * so that two nodes never hand out fids of the same volumes. A node that holds no volume yet is
 * refused ({@link Admission#REFUSED}) by a group that has another member, and by any group during
 * the tracker's first {@code downAfter}, while it may not have heard from every live node yet. A
 * node that holds volumes replaces a member that holds none; two that both hold volumes put their
 * group in conflict: both are refused and the group takes no uploads until one is stopped and the
 * tracker restarted.
 *
 * <p>Thread-safe: every method holds the map's lock, which is short (heartbeats once a second per
 * node, placement reads a few entries).
 */
public final class ClusterMap {

  /** What became of a heartbeat. */
  public enum Admission {
    /** The node is its group's member. */
    ACCEPTED,
    /** Another node is the group's member: this one must take no uploads. */
    REFUSED
  }

  /** A node as last heard of. */
  record Entry(Heartbeat heartbeat, long heardNanos, long failedNanos) {

    boolean silentFor(long now, long downAfterNanos) {
      return now - heardNanos > downAfterNanos;
    }

    /** Whether an upload failed on it after its last heartbeat. */
    boolean failedSinceHeard() {
      return failedNanos != Long.MIN_VALUE && failedNanos - heardNanos >= 0;
    }
  }

  private final LongSupplier nanoClock;
  private final long downAfterNanos;
  private final long startedNanos;
  /** group → node id → entry; TreeMaps so that views are in a stable order. */
  private final Map<Integer, Map<String, Entry>> groups = new TreeMap<>();
  /** Most age of {@link #candidates} between changes, ms. */
  static final long CANDIDATES_MAX_AGE_MILLIS = 50;
  private static final long CANDIDATES_MAX_AGE_NANOS = CANDIDATES_MAX_AGE_MILLIS * 1_000_000;
  private volatile UploadCandidates candidates = UploadCandidates.NONE;
  /** Set when who takes uploads may have changed: the next placement rebuilds the candidates. */
  private volatile boolean candidatesStale = true;
  /** Groups claimed by two nodes that both hold volumes. */
  private final java.util.Set<Integer> conflicted = new java.util.TreeSet<>();

  /**
   * @param downAfterNanos how long a node may stay silent before it is shown {@code down}
   * @param nanoClock      {@link System#nanoTime()} in production
   */
  public ClusterMap(long downAfterNanos, LongSupplier nanoClock) {
    this.downAfterNanos = downAfterNanos;
    this.nanoClock = nanoClock;
    this.startedNanos = nanoClock.getAsLong();
  }

  /** Records a heartbeat and says whether the node is its group's member (see the class notes). */
  public synchronized Admission heard(Heartbeat heartbeat) {
    long now = nanoClock.getAsLong();
    int group = heartbeat.group();
    boolean fresh = heartbeat.volumes().isEmpty();
    Map<String, Entry> members = groups.computeIfAbsent(group, g -> new TreeMap<>());
    boolean others = members.keySet().stream().anyMatch(id -> !id.equals(heartbeat.node()));
    if (fresh && (others || now - startedNanos < downAfterNanos)) {
      if (members.isEmpty()) {
        groups.remove(group);
      }
      return Admission.REFUSED;
    }
    if (!fresh && others) {
      boolean otherHoldsVolumes = members.values().stream().anyMatch(e ->
          !e.heartbeat().node().equals(heartbeat.node()) && !e.heartbeat().volumes().isEmpty());
      if (otherHoldsVolumes) {
        conflicted.add(group);
        candidatesStale = true;
      } else {
        members.keySet().removeIf(id -> !id.equals(heartbeat.node()));
        candidatesStale = true;
      }
    }
    Entry before = members.put(heartbeat.node(), new Entry(heartbeat, now, Long.MIN_VALUE));
    if (before == null || !before.heartbeat().state().equals(heartbeat.state())
        || before.failedSinceHeard() || before.silentFor(now, downAfterNanos)) {
      candidatesStale = true;
    }
    return conflicted.contains(group) ? Admission.REFUSED : Admission.ACCEPTED;
  }

  /** Whether two nodes holding volumes claim {@code group}. */
  public synchronized boolean conflicted(int group) {
    return conflicted.contains(group);
  }

  /** The member of {@code group} other than {@code node}, for a refusal's message. */
  public synchronized Optional<Heartbeat> otherMember(int group, String node) {
    return groups.getOrDefault(group, Map.of()).values().stream().map(Entry::heartbeat)
        .filter(h -> !h.node().equals(node)).findFirst();
  }

  /** Marks {@code node} as failed for uploads until its next heartbeat. */
  public synchronized void failed(int group, String node) {
    Map<String, Entry> members = groups.get(group);
    Entry entry = members == null ? null : members.get(node);
    if (entry != null) {
      members.put(node, new Entry(entry.heartbeat(), entry.heardNanos(), nanoClock.getAsLong()));
      candidatesStale = true;
    }
  }

  /**
   * A member that takes uploads now: reported {@code serving}, not silent, no failure since, its
   * group not in conflict.
   */
  private boolean takesUploads(Entry entry, long now) {
    return !conflicted.contains(entry.heartbeat().group()) && !entry.silentFor(now, downAfterNanos) && !entry.failedSinceHeard()
        && entry.heartbeat().state().equals(MemberState.SERVING.token());
  }

  /** A member that serves reads now: not silent, and not catching up. */
  private boolean servesReads(Entry entry, long now) {
    String state = entry.heartbeat().state();
    return !entry.silentFor(now, downAfterNanos)
        && (state.equals(MemberState.SERVING.token()) || state.equals(MemberState.READ_ONLY.token()));
  }

  /**
   * The members that take uploads now, skipping the {@code excluded} node ids. The full set is
   * computed at most every {@value #CANDIDATES_MAX_AGE_MILLIS} ms, and at once after a node
   * joins, changes state or fails an upload; in between, only free space and load may be that
   * much older, so a placement does not walk every group.
   */
  public UploadCandidates uploadCandidates(java.util.Set<String> excluded) {
    UploadCandidates current = candidates;
    long now = nanoClock.getAsLong();
    if (candidatesStale || now - current.builtNanos() > CANDIDATES_MAX_AGE_NANOS) {
      current = rebuildCandidates(now);
    }
    return current.without(excluded);
  }

  private synchronized UploadCandidates rebuildCandidates(long now) {
    candidatesStale = false;
    Map<Integer, List<Heartbeat>> byGroup = new TreeMap<>();
    groups.forEach((group, members) -> {
      List<Heartbeat> live = new ArrayList<>();
      for (Entry entry : members.values()) {
        if (takesUploads(entry, now)) {
          live.add(entry.heartbeat());
        }
      }
      if (!live.isEmpty()) {
        byGroup.put(group, List.copyOf(live));
      }
    });
    candidates = new UploadCandidates(byGroup, now);
    return candidates;
  }

  /** The members of {@code group} that serve reads now, least loaded first. */
  public synchronized List<Heartbeat> readers(int group) {
    long now = nanoClock.getAsLong();
    List<Heartbeat> readers = new ArrayList<>();
    for (Entry entry : groups.getOrDefault(group, Map.of()).values()) {
      if (servesReads(entry, now)) {
        readers.add(entry.heartbeat());
      }
    }
    readers.sort(Comparator.comparingInt(Heartbeat::load));
    return readers;
  }

  /** The view {@code GET /cluster} answers. */
  public synchronized ClusterView view(List<String> trackers) {
    long now = nanoClock.getAsLong();
    List<ClusterView.Group> view = new ArrayList<>();
    groups.forEach((group, members) -> {
      List<ClusterView.Member> shown = new ArrayList<>();
      boolean writable = false;
      for (Entry entry : members.values()) {
        Heartbeat h = entry.heartbeat();
        boolean down = entry.silentFor(now, downAfterNanos);
        writable |= takesUploads(entry, now);
        shown.add(new ClusterView.Member(h.node(), h.slot(), h.url(), h.zone(),
            down ? MemberState.DOWN.token() : h.state(), h.freeBytes(), h.load(), h.needles(),
            TimeUnit.NANOSECONDS.toMillis(now - entry.heardNanos())));
      }
      view.add(new ClusterView.Group(group, writable, shown));
    });
    return ClusterView.of(view, trackers);
  }

  /** Nodes known, down ones included. */
  public synchronized int members() {
    return groups.values().stream().mapToInt(Map::size).sum();
  }
}
