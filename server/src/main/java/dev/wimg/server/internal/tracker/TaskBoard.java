package dev.wimg.server.internal.tracker;

import dev.wimg.protocol.DistributionTask;
import dev.wimg.protocol.Fid;
import dev.wimg.protocol.Heartbeat;
import dev.wimg.protocol.PieceHandout;
import dev.wimg.protocol.TargetState;
import dev.wimg.protocol.TaskReport;
import dev.wimg.protocol.TaskStatus;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;

/**
 * The distribution tasks a tracker coordinates, in memory only (soft state, docs/DISTRIBUTION.md):
 * each task's definition, and per target its state, the pieces it holds and what it fetches now,
 * as its last report said. A restarted tracker learns every task again from its targets' reports.
 *
 * <p>Each report is answered with a {@link PieceHandout}, chosen so that the file's own group (the
 * source) sends each piece about once while the targets fetch the rest from each other:
 * <ol>
 *   <li>Pieces other targets hold come first, rarest first (fewest holders), ties broken per node
 *       so that nodes ask for different pieces; their holders are named nearest first: same zone,
 *       same IPv4 /24, then fastest as the targets measured them (in factors of two; an
 *       unmeasured one as the median), then fewest fetches from them now; a holder already
 *       sending {@link #UPLOADS_PER_HOLDER} pieces is not named (the piece waits for the next
 *       report).</li>
 *   <li>A piece no target holds leaves the source only under a <em>lease</em>: one target at a
 *       time, at most {@link #LEASES_PER_SOURCE} leases at once per reader of the piece's group,
 *       one lease at a time per target, on a stream of its own beyond {@link #STREAMS}, given
 *       before any other piece so the source's link never waits, and to targets in turn (one
 *       with more leased pieces than the fewest of the others plus one gets none), so that each
 *       soon holds pieces no other has and sends them on (super-seeding).
 *       A lease ends when its holder's report no longer lists the piece as being fetched (after a
 *       grace of {@link #LEASE_GRACE_MILLIS} from its grant) or the holder goes silent; then the
 *       piece may be leased to another.</li>
 * </ol>
 * A node fetches at most {@link #STREAMS} pieces at once.
 *
 * <p>A task is forgotten once no target has reported it for {@link #FORGET_AFTER_MILLIS}: a done
 * target reports every few seconds for as long as it keeps its pinned copy, so a done task stays
 * known (and its copies found) while they exist, and goes once its targets have dropped it or
 * are gone; a running task whose targets come back is learnt again from their reports (a target
 * that never took the offer loses it). A forgotten cancelled task's id is kept ({@link
 * #CANCELLED_KEPT} at most), so that a target away at the cancel is told so when it reports,
 * rather than teaching the tracker the task back.
 *
 * <p>Thread-safe: every method is synchronized (reports are small and few: one per target and
 * second, ten while it has a free stream or is next in turn for a lease).
 */
public final class TaskBoard {

  /** Pieces one node fetches at once. */
  static final int STREAMS = 4;
  /**
   * Source leases at once per reader of a piece's group: enough transfers to keep its link full
   * while some of its fetchers are slow to read.
   */
  static final int LEASES_PER_SOURCE = 4;
  /** How long a lease holds before its holder's report lists the piece. */
  static final long LEASE_GRACE_MILLIS = 3000;
  /**
   * Pieces a holder is named for at once (by the fetches its peers report): a holder that sends a
   * piece to two at full speed, rather than to six at a sixth, doubles the piece's holders sooner.
   */
  static final int UPLOADS_PER_HOLDER = 2;
  /** Holders named per piece. */
  static final int HOLDERS_NAMED = 4;
  /** Time to a running target's next report, ms. */
  static final long REPORT_EVERY_MILLIS = 1000;
  /** Time to the next report of a target with a free stream and pieces to get, ms. */
  static final long REPORT_SOON_MILLIS = 100;
  /**
   * What the source may send of a task, in percent of the file: its first copy, then, once
   * every piece has left it, leases of the rarest pieces to targets that lack them (the end game),
   * so that its link helps the peers with the last pieces instead of standing idle. Every lease
   * granted counts, lapsed ones too: a lease whose fetch fails (the source is gone) must not be
   * granted again and again while the piece could come from a peer.
   */
  static final int SOURCE_BUDGET_PERCENT = 115;
  /** How long a task is kept after the last report of any of its targets, ms. */
  static final long FORGET_AFTER_MILLIS = 10 * 60 * 1000;
  /** Ids of forgotten cancelled tasks kept, the oldest dropped first. */
  static final int CANCELLED_KEPT = 10_000;
  /** Time to a finished target's next report, ms. */
  static final long REPORT_EVERY_MILLIS_DONE = 5000;

  private final LongSupplier nanoClock;
  private final long downAfterNanos;
  private final Map<String, Task> tasks = new LinkedHashMap<>();
  private final java.util.SequencedSet<String> forgottenCancelled = new java.util.LinkedHashSet<>();
  private long sweptNanos;

  /** One task. */
  private static final class Task {
    final DistributionTask definition;
    final Map<String, Target> targets = new LinkedHashMap<>();
    final Map<Integer, Lease> leases = new HashMap<>();
    /** Piece bytes leased from the source so far, lapsed leases included. */
    long leasedBytes;
    boolean cancelled;
    /** Each piece's group (its source). */
    final int[] groups;
    /**
     * Each piece's live holders: the pieces of the targets in {@link #counted}, kept as reports
     * come rather than counted over every target at every report.
     */
    final int[] holders;
    /** The targets whose pieces {@link #holders} counts: those live with a URL. */
    final java.util.Set<Target> counted = new java.util.HashSet<>();
    /** Holders' measured speed classes, and when they were last worked out. */
    Map<String, Integer> speed;
    long speedNanos;

    Task(DistributionTask definition) {
      this.definition = definition;
      int pieces = definition.pieces().size();
      this.groups = new int[pieces];
      for (int i = 0; i < pieces; i++) {
        groups[i] = Fid.parse(definition.pieces().get(i).fid()).group();
      }
      this.holders = new int[pieces];
    }

    /** Counts {@code t}'s pieces in or out of {@link #holders}. */
    void count(Target t, boolean in) {
      if (in ? counted.add(t) : counted.remove(t)) {
        for (int i = t.have.nextSetBit(0); i >= 0 && i < holders.length; i = t.have.nextSetBit(i + 1)) {
          holders[i] += in ? 1 : -1;
        }
      }
    }
  }

  /** One target as last heard of. */
  private static final class Target {
    final String node;
    String url;
    /** The IPv4 /24 of {@link #url} ({@link #prefix24}), or null. */
    String prefix;
    String zone;
    TargetState state = TargetState.OFFERED;
    String reason;
    BitSet have = new BitSet();
    List<TaskReport.Fetch> fetching = List.of();
    /** How fast pieces came to it from each holder lately, as its last report said. */
    List<TaskReport.HolderRate> holderRates = List.of();
    long bytes;
    long sourceBytes;
    long rate;
    long heardNanos;
    /** Pieces leased to it from the source: leases go to the targets with fewest (super-seeding). */
    int sourcePieces;

    Target(String node, String url, String zone, long now) {
      this.node = node;
      this.url = url;
      this.prefix = prefix24(url);
      this.zone = zone;
      this.heardNanos = now;
    }

    /** Leases of {@code task} this target holds now. */
    int leasesInFlight(Task task) {
      int n = 0;
      for (Lease l : task.leases.values()) {
        n += l.node().equals(node) ? 1 : 0;
      }
      return n;
    }

    boolean fetches(int piece) {
      for (TaskReport.Fetch f : fetching) {
        if (f.piece() == piece) {
          return true;
        }
      }
      return false;
    }
  }

  private record Lease(String node, long grantedNanos) {}

  /**
   * @param downAfterNanos how long a target may stay silent before it shows as {@code down} and
   *                       its leases and pieces stop counting (at least three of its report
   *                       intervals)
   */
  public TaskBoard(long downAfterNanos, LongSupplier nanoClock) {
    this.downAfterNanos = downAfterNanos;
    this.nanoClock = nanoClock;
    this.sweptNanos = nanoClock.getAsLong() - TimeUnit.SECONDS.toNanos(1);
  }

  /** Adds a new task, its targets {@code offered}. */
  public synchronized TaskStatus create(DistributionTask definition, List<Heartbeat> targets) {
    Task task = new Task(definition);
    long now = nanoClock.getAsLong();
    forgetQuiet(now);
    for (Heartbeat h : targets) {
      task.targets.put(h.node(), new Target(h.node(), h.url(), h.zone(), now));
    }
    tasks.put(definition.id(), task);
    return status(task, now);
  }

  /** Tasks offered to {@code node} that it has not reported yet: given in its heartbeat answer. */
  public synchronized List<DistributionTask> offeredTo(String node) {
    List<DistributionTask> offered = new ArrayList<>();
    for (Task task : tasks.values()) {
      Target t = task.targets.get(node);
      if (t != null && t.state == TargetState.OFFERED && !task.cancelled) {
        offered.add(task.definition);
      }
    }
    return offered;
  }

  /**
   * Takes a target's report and answers what it should fetch now; empty when the tracker does not
   * know the task and the report does not carry its definition (the node then sends it).
   *
   * @throws IllegalArgumentException when the report names pieces the task does not have (nothing
   *     of it is taken)
   *
   * @param sources the readers of a group now, least loaded first
   * @param zoneOf  a node's zone, for reports of targets this tracker learns from the report alone
   */
  public synchronized Optional<PieceHandout> report(TaskReport report, IntFunction<List<Heartbeat>> sources,
                                                    java.util.function.Function<String, String> zoneOf) {
    long now = nanoClock.getAsLong();
    forgetQuiet(now);
    Task task = tasks.get(report.task());
    if (task == null && forgottenCancelled.contains(report.task())) {
      return Optional.of(new PieceHandout(PieceHandout.VERSION, REPORT_EVERY_MILLIS_DONE, List.of(), true));
    }
    if (task == null) {
      DistributionTask definition = report.definition();
      if (definition == null || !definition.id().equals(report.task())) {
        return Optional.empty();
      }
      task = new Task(definition);
      for (String node : definition.targets()) {
        // offered again: a target that has the task ignores the offer, one whose offer the
        // restart lost takes it now
        Target t = new Target(node, null, null, now);
        t.heardNanos = Long.MIN_VALUE / 2; // unheard until it reports
        task.targets.put(node, t);
      }
      tasks.put(definition.id(), task);
    }
    Target target = task.targets.get(report.node());
    int pieceCount = task.definition.pieces().size();
    java.util.BitSet have = report.haveBits();
    if (have.length() > pieceCount) {
      throw new IllegalArgumentException("have names piece " + (have.length() - 1) + " of a task of " + pieceCount);
    }
    for (TaskReport.Fetch f : report.fetching()) {
      if (f.piece() < 0 || f.piece() >= pieceCount) {
        throw new IllegalArgumentException("fetching names piece " + f.piece() + " of a task of " + pieceCount);
      }
    }
    if (target == null) {
      // not one of its targets: it learns nothing, and fetches nothing
      return Optional.of(new PieceHandout(PieceHandout.VERSION, REPORT_EVERY_MILLIS_DONE, List.of(), true));
    }
    task.count(target, false); // counted again below with what it holds now, if live
    if (!report.url().equals(target.url)) {
      target.url = report.url();
      target.prefix = prefix24(target.url);
    }
    if (target.zone == null) {
      target.zone = zoneOf.apply(report.node());
    }
    target.state = TargetState.parse(report.state());
    target.reason = report.reason();
    target.have = have;
    target.fetching = report.fetching();
    target.holderRates = report.holderRates();
    target.bytes = report.bytes();
    target.sourceBytes = report.sourceBytes();
    target.rate = report.rate();
    target.heardNanos = now;
    recount(task, now);
    if (task.cancelled) {
      return Optional.of(new PieceHandout(PieceHandout.VERSION, REPORT_EVERY_MILLIS_DONE, List.of(), true));
    }
    if (target.state.ended()) {
      return Optional.of(new PieceHandout(PieceHandout.VERSION, REPORT_EVERY_MILLIS_DONE, List.of(), false));
    }
    List<PieceHandout.Assignment> pieces = handout(task, target, sources, now);
    // a node with a free stream and a piece it lacks asks again soon: holders appear every few
    // hundred milliseconds, and a second's wait would leave its link idle; so does one next in
    // turn for a lease while the source's first copy is under way: a lease that ends on a node
    // ahead in turn waits for the next report of one that is not, and the source's link with it
    boolean idle = target.fetching.size() + pieces.size() < STREAMS
        && target.have.cardinality() + target.fetching.size() + pieces.size() < task.definition.pieces().size();
    boolean nextForLease = pieces.stream().noneMatch(PieceHandout.Assignment::source) && awaitsLease(task, target, now);
    return Optional.of(new PieceHandout(PieceHandout.VERSION,
        idle || nextForLease ? REPORT_SOON_MILLIS : REPORT_EVERY_MILLIS, pieces, false));
  }

  /**
   * Whether {@code target} holds no lease, is in turn for one, and the source still has pieces no
   * target holds or fetches.
   */
  private boolean awaitsLease(Task task, Target target, long now) {
    if (target.leasesInFlight(task) > 0 || target.sourcePieces > fewestSourcePieces(task, now) + 1) {
      return false;
    }
    for (int i = 0; i < task.holders.length; i++) {
      if (task.holders[i] == 0 && !task.leases.containsKey(i)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Brings {@link Task#holders} up to date with who is live now: a target silent too long stops
   * counting, one heard again counts again. One pass over the targets, each piece counted only
   * when its target's liveness changes.
   */
  private void recount(Task task, long now) {
    for (Target t : task.targets.values()) {
      boolean in = t.url != null && live(t, now);
      if (in != task.counted.contains(t)) {
        task.count(t, in);
      }
    }
  }

  private List<PieceHandout.Assignment> handout(Task task, Target target, IntFunction<List<Heartbeat>> sources,
                                                long now) {
    int pieces = task.definition.pieces().size();
    List<Target> live = new ArrayList<>();
    Map<String, Integer> uploads = new HashMap<>();
    for (Target t : task.targets.values()) {
      if (t != target && t.url != null && live(t, now)) {
        live.add(t);
      }
      for (TaskReport.Fetch f : t.fetching) {
        uploads.merge(f.from(), 1, Integer::sum);
      }
    }
    List<Integer> held = new ArrayList<>();
    List<Integer> unheld = new ArrayList<>();
    // the target lacks these pieces, so every counted holder of one is another target
    int[] holders = task.holders;
    for (int i = 0; i < pieces; i++) {
      if (target.have.get(i) || target.fetches(i)) {
        continue;
      }
      (holders[i] > 0 ? held : unheld).add(i);
    }
    List<PieceHandout.Assignment> out = new ArrayList<>();
    // first a lease, so that the source's link never waits for a fetcher with a free stream: a
    // lease takes a stream of its own beyond STREAMS, and a target holds one at a time
    PieceHandout.Assignment lease = lease(task, target, unheld, sources, now);
    if (lease == null) {
      lease = endGameLease(task, target, held, holders, sources, now);
      if (lease != null) {
        held.remove(Integer.valueOf(lease.piece()));
      }
    }
    if (lease != null) {
      out.add(lease);
    }
    int peerFetches = 0;
    for (TaskReport.Fetch f : target.fetching) {
      Lease l = task.leases.get(f.piece());
      peerFetches += l != null && l.node().equals(target.node) ? 0 : 1;
    }
    int free = STREAMS - peerFetches;
    int salt = target.node.hashCode();
    Map<String, Integer> speed = speedClasses(task, now);
    // an unmeasured holder counts as the median of the measured live ones
    int unmeasured = median(live.stream().map(t -> speed.get(t.url)).filter(java.util.Objects::nonNull).toList());
    Comparator<Target> nearest = Comparator.<Target>comparingInt(t -> sameZone(t, target) ? 0 : 1)
        .thenComparingInt(t -> t.prefix != null && t.prefix.equals(target.prefix) ? 0 : 1);
    held.sort(Comparator.<Integer>comparingInt(i -> holders[i]).thenComparingInt(i -> Integer.hashCode(i * 31 + salt)));
    for (int piece : held) {
      if (out.size() - (lease == null ? 0 : 1) >= free) {
        break;
      }
      List<Target> from = new ArrayList<>();
      for (Target t : live) {
        if (t.have.get(piece) && uploads.getOrDefault(t.url, 0) < UPLOADS_PER_HOLDER) {
          from.add(t);
        }
      }
      if (from.isEmpty()) {
        continue; // every holder is busy: asked again at the next report, when one may not be
      }
      List<String> urls = best(from, nearest.thenComparingInt(t -> -speed.getOrDefault(t.url, unmeasured))
          .thenComparingInt(t -> uploads.getOrDefault(t.url, 0))
          .thenComparingInt(t -> Integer.hashCode(t.node.hashCode() * 31 + salt)), HOLDERS_NAMED)
          .stream().map(t -> t.url).toList();
      out.add(new PieceHandout.Assignment(piece, urls, false));
      uploads.merge(urls.getFirst(), 1, Integer::sum);
    }
    return out;
  }

  /** The first {@code k} of {@code items} in {@code order}, in that order: k passes, not a sort of all. */
  private static <T> List<T> best(List<T> items, Comparator<T> order, int k) {
    List<T> out = new ArrayList<>(Math.min(k, items.size()));
    for (T item : items) {
      int at = out.size();
      while (at > 0 && order.compare(item, out.get(at - 1)) < 0) {
        at--;
      }
      if (at < k) {
        out.add(at, item);
        if (out.size() > k) {
          out.removeLast();
        }
      }
    }
    return out;
  }

  /**
   * Each holder's measured speed class: the base-2 logarithm of the mean rate (bytes/s) at which
   * the live targets' reports say pieces came from it lately. Holders within a factor of two of
   * each other are alike, so that the noise of one piece's rate does not send every fetcher to
   * one holder; unmeasured holders are absent. Worked out at most once a second per task.
   */
  private Map<String, Integer> speedClasses(Task task, long now) {
    if (task.speed != null && now - task.speedNanos < TimeUnit.SECONDS.toNanos(1)) {
      return task.speed;
    }
    task.speedNanos = now;
    Map<String, long[]> sums = new HashMap<>();
    for (Target t : task.targets.values()) {
      if (!live(t, now)) {
        continue;
      }
      for (TaskReport.HolderRate s : t.holderRates) {
        long[] sum = sums.computeIfAbsent(s.url(), u -> new long[2]);
        sum[0] += s.rate();
        sum[1]++;
      }
    }
    Map<String, Integer> classes = new HashMap<>();
    sums.forEach((url, sum) -> classes.put(url, 63 - Long.numberOfLeadingZeros(Math.max(1, sum[0] / sum[1]))));
    task.speed = classes;
    return classes;
  }

  /** The median of {@code values}, 0 when there are none. */
  private static int median(List<Integer> values) {
    if (values.isEmpty()) {
      return 0;
    }
    List<Integer> sorted = values.stream().sorted().toList();
    return sorted.get(sorted.size() / 2);
  }

  /**
   * A piece no live target holds, leased to {@code target} from the source; null when it holds a
   * lease already, has more leased pieces than the fewest of the others plus one, or the source
   * has {@link #LEASES_PER_SOURCE} per reader out.
   */
  private PieceHandout.Assignment lease(Task task, Target target, List<Integer> unheld,
                                        IntFunction<List<Heartbeat>> sources, long now) {
    task.leases.entrySet().removeIf(e -> !leaseHolds(task, e.getKey(), e.getValue(), now));
    if (unheld.isEmpty() || target.leasesInFlight(task) > 0
        || target.sourcePieces > fewestSourcePieces(task, now) + 1) {
      return null;
    }
    return grantLease(task, target, unheld, sources, now);
  }

  /**
   * The end game: once every piece has left the source (each has a live holder), the source's
   * link would stand idle while the peers send the last pieces, so the rarest piece {@code target}
   * lacks is leased to it from the source, within {@link #SOURCE_BUDGET_PERCENT}; null when none
   * is.
   *
   * @param held the pieces {@code target} lacks that live targets hold, rarest first
   */
  private PieceHandout.Assignment endGameLease(Task task, Target target, List<Integer> held, int[] holders,
                                               IntFunction<List<Heartbeat>> sources, long now) {
    if (held.isEmpty() || target.leasesInFlight(task) > 0) {
      return null;
    }
    for (int count : task.holders) {
      if (count == 0) {
        return null; // the first copy is still under way
      }
    }
    long budget = task.definition.file().size() * SOURCE_BUDGET_PERCENT / 100;
    List<Integer> rarest = new ArrayList<>(held);
    rarest.sort(Comparator.comparingInt(i -> holders[i]));
    rarest.removeIf(i -> task.leasedBytes + task.definition.pieces().get(i).size() > budget);
    return grantLease(task, target, rarest, sources, now);
  }

  /**
   * Leases the first of {@code candidates} not leased already whose group's readers have fewer
   * than {@link #LEASES_PER_SOURCE} leases each out; null when none is.
   */
  private PieceHandout.Assignment grantLease(Task task, Target target, List<Integer> candidates,
                                             IntFunction<List<Heartbeat>> sources, long now) {
    Map<Integer, Integer> leasesPerGroup = new HashMap<>();
    for (Map.Entry<Integer, Lease> e : task.leases.entrySet()) {
      leasesPerGroup.merge(group(task, e.getKey()), 1, Integer::sum);
    }
    Map<Integer, List<String>> readersOf = new HashMap<>();
    for (int piece : candidates) {
      if (task.leases.containsKey(piece)) {
        continue;
      }
      int group = group(task, piece);
      List<String> readers = readersOf.computeIfAbsent(group, g -> {
        List<String> live = sources.apply(g).stream().map(Heartbeat::url).toList();
        return !live.isEmpty() ? live : task.definition.sources().stream().filter(s -> s.group() == g).findFirst()
            .map(DistributionTask.Source::urls).orElse(List.of());
      });
      if (readers.isEmpty() || leasesPerGroup.getOrDefault(group, 0) >= LEASES_PER_SOURCE * readers.size()) {
        continue;
      }
      task.leases.put(piece, new Lease(target.node, now));
      task.leasedBytes += task.definition.pieces().get(piece).size();
      target.sourcePieces++;
      return new PieceHandout.Assignment(piece, readers, true);
    }
    return null;
  }

  /** The fewest source pieces leased to a live target that still lacks pieces. */
  private int fewestSourcePieces(Task task, long now) {
    int fewest = Integer.MAX_VALUE;
    for (Target t : task.targets.values()) {
      if (live(t, now) && t.state != TargetState.DONE && t.url != null) {
        fewest = Math.min(fewest, t.sourcePieces);
      }
    }
    return fewest == Integer.MAX_VALUE ? 0 : fewest;
  }

  private boolean leaseHolds(Task task, int piece, Lease lease, long now) {
    Target holder = task.targets.get(lease.node());
    if (holder == null || !live(holder, now) || holder.have.get(piece)) {
      return false;
    }
    return holder.fetches(piece) || now - lease.grantedNanos() < TimeUnit.MILLISECONDS.toNanos(LEASE_GRACE_MILLIS);
  }

  private static int group(Task task, int piece) {
    return task.groups[piece];
  }

  private static boolean sameZone(Target a, Target b) {
    return a.zone != null && a.zone.equals(b.zone);
  }

  /**
   * The first three parts of a URL's IPv4 host ({@code 10.0.1}), or null for any other host: two
   * nodes with one are most likely behind one switch; a host name or an IPv6 address matches none.
   */
  static String prefix24(String url) {
    if (url == null) {
      return null;
    }
    String host;
    try {
      host = java.net.URI.create(url).getHost();
    } catch (IllegalArgumentException e) {
      return null; // not a URL: no prefix to share
    }
    if (host == null || !host.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")) {
      return null;
    }
    return host.substring(0, host.lastIndexOf('.'));
  }

  /**
   * Whether a target counts as a holder: it reported within three of its report intervals (and
   * the tracker's down time), and has not failed.
   */
  private boolean live(Target t, long now) {
    return now - t.heardNanos <= silenceAllowed(t) && (t.state == TargetState.ACCEPTED
        || t.state == TargetState.FETCHING || t.state == TargetState.DONE);
  }

  private long silenceAllowed(Target t) {
    long interval = t.state == TargetState.DONE ? REPORT_EVERY_MILLIS_DONE : REPORT_EVERY_MILLIS;
    return Math.max(downAfterNanos, TimeUnit.MILLISECONDS.toNanos(3 * interval));
  }

  /** A copy a distribution task pinned on a node: where the file can be read besides its group. */
  public record PinnedCopy(String node, String url, String zone) {}

  /**
   * The live targets that hold {@code fid} whole (their task is done), one per node, so that reads
   * can be sent to them.
   */
  public synchronized List<PinnedCopy> pinnedCopies(String fid) {
    long now = nanoClock.getAsLong();
    Map<String, PinnedCopy> copies = new LinkedHashMap<>();
    for (Task task : tasks.values()) {
      if (task.cancelled || !task.definition.fid().equals(fid)) {
        continue;
      }
      for (Target t : task.targets.values()) {
        if (t.state == TargetState.DONE && t.url != null && live(t, now)) {
          copies.putIfAbsent(t.node, new PinnedCopy(t.node, t.url, t.zone));
        }
      }
    }
    return List.copyOf(copies.values());
  }

  /** Forgets the tasks no target has reported for {@link #FORGET_AFTER_MILLIS}; looks once a second at most. */
  private void forgetQuiet(long now) {
    if (now - sweptNanos < TimeUnit.SECONDS.toNanos(1)) {
      return;
    }
    sweptNanos = now;
    long forgetAfter = TimeUnit.MILLISECONDS.toNanos(FORGET_AFTER_MILLIS);
    var it = tasks.values().iterator();
    while (it.hasNext()) {
      Task task = it.next();
      if (task.targets.values().stream().anyMatch(t -> now - t.heardNanos <= forgetAfter)) {
        continue;
      }
      it.remove();
      if (task.cancelled) {
        forgottenCancelled.add(task.definition.id());
        if (forgottenCancelled.size() > CANCELLED_KEPT) {
          forgottenCancelled.removeFirst();
        }
      }
    }
  }

  /** Cancels a task: each target drops its pin at its next report. False if unknown. */
  public synchronized boolean cancel(String id) {
    Task task = tasks.get(id);
    if (task == null) {
      return false;
    }
    task.cancelled = true;
    return true;
  }

  /** A task as {@code GET /tasks/<id>} shows it. */
  public synchronized Optional<TaskStatus> status(String id) {
    Task task = tasks.get(id);
    return task == null ? Optional.empty() : Optional.of(status(task, nanoClock.getAsLong()));
  }

  /** Every task, oldest first. */
  public synchronized List<TaskStatus> all() {
    long now = nanoClock.getAsLong();
    return tasks.values().stream().map(t -> status(t, now)).toList();
  }

  private TaskStatus status(Task task, long now) {
    List<TaskStatus.Target> targets = new ArrayList<>();
    long sourceBytes = 0;
    boolean allEnded = true;
    boolean anyFailed = false;
    for (Target t : task.targets.values()) {
      TargetState shown = !t.state.ended() && t.state != TargetState.OFFERED && now - t.heardNanos > silenceAllowed(t)
          ? TargetState.DOWN : t.state;
      allEnded &= shown.ended();
      anyFailed |= shown == TargetState.FAILED;
      sourceBytes += t.sourceBytes;
      long silent = t.heardNanos < Long.MIN_VALUE / 4 ? -1 : TimeUnit.NANOSECONDS.toMillis(now - t.heardNanos);
      targets.add(new TaskStatus.Target(t.node, t.url, t.zone, shown.token(), t.have.cardinality(), t.bytes,
          t.sourceBytes, t.rate, silent, t.reason));
    }
    String state = task.cancelled ? "cancelled" : !allEnded ? "running" : anyFailed ? "failed" : "done";
    DistributionTask d = task.definition;
    return new TaskStatus(TaskStatus.VERSION, d.id(), d.fid(), d.file().size(), d.pieces().size(), d.created(), state,
        sourceBytes, (double) sourceBytes / d.file().size(), targets);
  }
}
