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
 * <p>A group has as many members as heartbeat for it, each writing the volumes of its own slot
 * and holding copies of the others' (docs/CLUSTER.md). A node that claims a slot another live
 * node of its group holds (a data folder copied with its {@code node.properties} changed, say) is
 * refused ({@link Admission#REFUSED}): two writers of the same volumes would hand out the same
 * fids. A group takes uploads while as many of its members take them as its uploads need copies
 * (the largest {@code copies} its members report, or the group's size if smaller): with a member
 * down, a group of two that needs two copies takes none, and its uploads go to other groups.
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
  /** group → node id → entry; TreeMaps so that views are in a stable order. */
  private final Map<Integer, Map<String, Entry>> groups = new TreeMap<>();
  /** Most age of {@link #candidates} between changes, ms. */
  static final long CANDIDATES_MAX_AGE_MILLIS = 50;
  private static final long CANDIDATES_MAX_AGE_NANOS = CANDIDATES_MAX_AGE_MILLIS * 1_000_000;
  private volatile UploadCandidates candidates = UploadCandidates.NONE;
  /** Set when who takes uploads may have changed: the next placement rebuilds the candidates. */
  private volatile boolean candidatesStale = true;

  /**
   * @param downAfterNanos how long a node may stay silent before it is shown {@code down}
   * @param nanoClock      {@link System#nanoTime()} in production
   */
  public ClusterMap(long downAfterNanos, LongSupplier nanoClock) {
    this.downAfterNanos = downAfterNanos;
    this.nanoClock = nanoClock;
  }

  /** Records a heartbeat and says whether the node is its group's member (see the class notes). */
  public synchronized Admission heard(Heartbeat heartbeat) {
    long now = nanoClock.getAsLong();
    int group = heartbeat.group();
    Map<String, Entry> members = groups.computeIfAbsent(group, g -> new TreeMap<>());
    if (slotHolder(members, heartbeat, now).isPresent()) {
      return Admission.REFUSED;
    }
    Entry before = members.put(heartbeat.node(), new Entry(heartbeat, now, Long.MIN_VALUE));
    if (before == null || !before.heartbeat().state().equals(heartbeat.state())
        || before.heartbeat().copies() != heartbeat.copies()
        || before.failedSinceHeard() || before.silentFor(now, downAfterNanos)) {
      candidatesStale = true;
    }
    return Admission.ACCEPTED;
  }

  /** Another live member of the heartbeat's group that holds its slot, if any. */
  private Optional<Heartbeat> slotHolder(Map<String, Entry> members, Heartbeat heartbeat, long now) {
    return members.values().stream()
        .filter(e -> !e.heartbeat().node().equals(heartbeat.node()) && heartbeat.slot() != 0
            && e.heartbeat().slot() == heartbeat.slot() && !e.silentFor(now, downAfterNanos))
        .map(Entry::heartbeat).findFirst();
  }

  /** The live member of {@code group} other than {@code node} that holds {@code slot}, for a refusal. */
  public synchronized Optional<Heartbeat> slotHolder(Heartbeat heartbeat) {
    return slotHolder(groups.getOrDefault(heartbeat.group(), Map.of()), heartbeat, nanoClock.getAsLong());
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

  /** A member that takes uploads now: reported {@code serving}, not silent, no failure since. */
  private boolean takesUploads(Entry entry, long now) {
    return !entry.silentFor(now, downAfterNanos) && !entry.failedSinceHeard()
        && entry.heartbeat().state().equals(MemberState.SERVING.token());
  }

  /** Copies an upload to {@code members}' group needs: the most any member asks, at most all. */
  private static int copiesNeeded(Map<String, Entry> members) {
    int copies = 1;
    for (Entry e : members.values()) {
      copies = Math.max(copies, e.heartbeat().copies());
    }
    return Math.min(copies, members.size());
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
      if (!live.isEmpty() && live.size() >= copiesNeeded(members)) {
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

  /** Every node heard from within the down time, any group and state, in group and id order. */
  public synchronized List<Heartbeat> live() {
    long now = nanoClock.getAsLong();
    List<Heartbeat> live = new ArrayList<>();
    for (Map<String, Entry> members : groups.values()) {
      for (Entry entry : members.values()) {
        if (!entry.silentFor(now, downAfterNanos)) {
          live.add(entry.heartbeat());
        }
      }
    }
    return live;
  }

  /** The view {@code GET /cluster} answers. */
  public synchronized ClusterView view(List<String> trackers) {
    long now = nanoClock.getAsLong();
    List<ClusterView.Group> view = new ArrayList<>();
    groups.forEach((group, members) -> {
      view.add(groupView(members, group, now));
    });
    return ClusterView.of(view, trackers);
  }

  /** {@code group} as {@code GET /cluster} shows it, or null when no node of it is known. */
  public synchronized ClusterView.Group group(int group) {
    Map<String, Entry> members = groups.get(group);
    return members == null ? null : groupView(members, group, nanoClock.getAsLong());
  }

  private ClusterView.Group groupView(Map<String, Entry> members, int group, long now) {
    List<ClusterView.Member> shown = new ArrayList<>();
    int taking = 0;
    for (Entry entry : members.values()) {
      Heartbeat h = entry.heartbeat();
      boolean down = entry.silentFor(now, downAfterNanos);
      if (takesUploads(entry, now)) {
        taking++;
      }
      shown.add(new ClusterView.Member(h.node(), h.slot(), h.url(), h.zone(),
          down ? MemberState.DOWN.token() : h.state(), h.freeBytes(), h.load(), h.needles(),
          TimeUnit.NANOSECONDS.toMillis(now - entry.heardNanos())));
    }
    return new ClusterView.Group(group, taking > 0 && taking >= copiesNeeded(members), shown);
  }

  /** Nodes known, down ones included. */
  public synchronized int members() {
    return groups.values().stream().mapToInt(Map::size).sum();
  }
}
