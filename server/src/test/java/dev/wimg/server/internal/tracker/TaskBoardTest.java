package dev.wimg.server.internal.tracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.protocol.DistributionTask;
import dev.wimg.protocol.Heartbeat;
import dev.wimg.protocol.PieceHandout;
import dev.wimg.protocol.TaskReport;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * The tracker's piece handouts on a fake clock: each piece leaves the source under one lease, one
 * per target at a time, four per source reader; held pieces come from their holders, the same
 * zone first, then the same /24, a busy holder left out; a lease lapses when its holder stops
 * listing the piece; a cancel and a report naming pieces the task lacks.
 */
class TaskBoardTest {

  private static final String SOURCE = "http://10.0.9.1:8080";
  private static final IntFunction<List<Heartbeat>> SOURCES = group -> List.of(Heartbeat.of(1, "src", 0, SOURCE,
      "origin", "serving", 1, 1, 1, 0, List.of(1)));
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final TaskBoard board = new TaskBoard(5_000_000_000L, now::get);

  @Test
  void eachPieceLeavesTheSourceOnceAndHoldersServeTheRest() {
    DistributionTask task = task(8, "a", "b", "c", "d", "e", "f");
    board.create(task, List.of(node("a", "http://10.0.1.1:1", "edge"), node("b", "http://10.0.1.2:1", "edge"),
        node("c", "http://10.0.2.3:1", "edge"), node("d", "http://10.0.2.4:1", "edge"),
        node("e", "http://10.0.3.5:1", "edge"), node("f", "http://10.0.3.6:1", "edge")));
    Set<Integer> leased = new HashSet<>();
    int leases = 0;
    for (String n : List.of("a", "b", "c", "d", "e", "f")) {
      PieceHandout h = report(task, n, new BitSet(), List.of());
      for (PieceHandout.Assignment a : h.pieces()) {
        assertThat(a.source()).as("nothing is held yet: only leases").isTrue();
        assertThat(a.from()).containsExactly(SOURCE);
        assertThat(leased.add(a.piece())).as("piece %d leased twice", a.piece()).isTrue();
        leases++;
      }
      assertThat(h.pieces()).as("one lease per target at a time").hasSizeLessThanOrEqualTo(1);
    }
    assertThat(leases).as("four leases per source reader").isEqualTo(TaskBoard.LEASES_PER_SOURCE);

    // a holds piece 0 now; b (same /24 as a) and c ask: held pieces come from a, not the source
    BitSet zero = new BitSet();
    zero.set(0);
    report(task, "a", zero, List.of());
    PieceHandout forB = report(task, "b", new BitSet(), List.of());
    assertThat(forB.pieces()).filteredOn(p -> p.piece() == 0).singleElement()
        .satisfies(p -> assertThat(p.from()).containsExactly("http://10.0.1.1:1"));

    // a second holder of piece 0 in c's /24 is named before a
    report(task, "d", zero, List.of());
    PieceHandout forC = report(task, "c", new BitSet(), List.of());
    assertThat(forC.pieces()).filteredOn(p -> p.piece() == 0).singleElement()
        .satisfies(p -> assertThat(p.from()).containsExactly("http://10.0.2.4:1", "http://10.0.1.1:1"));
  }

  @Test
  void aTargetInTurnForALeaseReportsSoonEvenWithItsStreamsBusy() {
    DistributionTask task = task(12, "a", "b", "c", "d", "e");
    board.create(task, List.of(node("a", "http://10.0.1.1:1", "edge"), node("b", "http://10.0.1.2:1", "edge"),
        node("c", "http://10.0.2.3:1", "edge"), node("d", "http://10.0.2.4:1", "edge"),
        node("e", "http://10.0.3.5:1", "edge")));
    int leasedToA = -1;
    for (String n : List.of("a", "b", "c", "d")) {
      PieceHandout h = report(task, n, new BitSet(), List.of());
      assertThat(h.pieces()).singleElement().satisfies(p -> assertThat(p.source()).isTrue());
      leasedToA = n.equals("a") ? h.pieces().getFirst().piece() : leasedToA;
    }
    // every lease is out and e's four streams are busy: it is in turn for the next lease, and a
    // lease that ends on a node ahead in turn must not wait a second for e's next report
    PieceHandout forE = report(task, "e", new BitSet(), peerFetches(8));
    assertThat(forE.pieces()).isEmpty();
    assertThat(forE.next()).isEqualTo(TaskBoard.REPORT_SOON_MILLIS);
    // a node holding a lease, its streams busy, reports at the usual pace
    List<TaskReport.Fetch> leaseAndPeers = new ArrayList<>(peerFetches(8));
    leaseAndPeers.add(new TaskReport.Fetch(leasedToA, SOURCE));
    assertThat(report(task, "a", new BitSet(), leaseAndPeers).next()).isEqualTo(TaskBoard.REPORT_EVERY_MILLIS);
    // a's lease ends: it gets the next (one ahead of e), then, two ahead, none, and no early report
    BitSet aHas = bitsOf(leasedToA);
    PieceHandout again = report(task, "a", aHas, peerFetches(8));
    assertThat(again.pieces()).singleElement().satisfies(p -> assertThat(p.source()).isTrue());
    aHas.set(again.pieces().getFirst().piece());
    PieceHandout ahead = report(task, "a", aHas, peerFetches(8));
    assertThat(ahead.pieces()).isEmpty();
    assertThat(ahead.next()).isEqualTo(TaskBoard.REPORT_EVERY_MILLIS);
    assertThat(report(task, "e", new BitSet(), peerFetches(8)).pieces()).as("the lease a's end freed")
        .singleElement().satisfies(p -> assertThat(p.source()).isTrue());
  }

  @Test
  void onceEveryPieceHasLeftTheSourceItLeasesTheRarestWithinItsBudget() {
    DistributionTask task = task(20, "a", "b", "c");
    board.create(task, List.of(node("a", "http://10.0.1.1:1", "edge"), node("b", "http://10.0.1.2:1", "edge"),
        node("c", "http://10.0.1.3:1", "edge")));
    Map<String, BitSet> has = Map.of("a", new BitSet(), "b", new BitSet(), "c", new BitSet());
    // the source bytes each target reports: 8 a piece
    Map<String, Long> sourced = new java.util.HashMap<>(Map.of("a", 0L, "b", 0L, "c", 0L));
    int leases = 0;
    while (leases < 20) {
      for (String n : List.of("a", "b", "c")) {
        for (PieceHandout.Assignment p : report(task, n, has.get(n), List.of(), sourced.get(n)).pieces()) {
          if (p.source()) { // the pieces from peers are left: each stays with the node it was leased to
            has.get(n).set(p.piece());
            sourced.merge(n, 8L, Long::sum);
            leases++;
          }
        }
      }
    }
    assertThat(leases).as("each piece leased once, then none until every piece is held").isEqualTo(20);
    // the one piece a holds alone is the rarest; a and b list fetches of everything they lack
    int rare = has.get("a").nextSetBit(0);
    BitSet allButRare = bitsOf();
    allButRare.set(0, 20);
    allButRare.clear(rare);
    assertThat(report(task, "b", allButRare, List.of(new TaskReport.Fetch(rare, urlOf("a"))), sourced.get("b"))
        .pieces()).isEmpty();
    BitSet aAndB = (BitSet) has.get("a").clone();
    aAndB.or(has.get("b"));
    List<TaskReport.Fetch> cPieces = has.get("c").stream().mapToObj(i -> new TaskReport.Fetch(i, urlOf("b")))
        .toList();
    assertThat(report(task, "a", aAndB, cPieces, sourced.get("a")).pieces()).isEmpty();

    // the budget, 1.15 copies of 20 pieces, is 23 leases
    PieceHandout forC = report(task, "c", has.get("c"), List.of(), sourced.get("c"));
    assertThat(forC.pieces()).filteredOn(PieceHandout.Assignment::source).as("the rarest piece c lacks")
        .singleElement().satisfies(p -> assertThat(p.piece()).isEqualTo(rare));
    assertThat(report(task, "a", aAndB, List.of(), sourced.get("a")).pieces())
        .filteredOn(PieceHandout.Assignment::source).as("the 22nd piece from the source").hasSize(1);
    has.get("c").set(rare);
    assertThat(report(task, "c", has.get("c"), List.of(), sourced.get("c") + 8).pieces())
        .filteredOn(PieceHandout.Assignment::source).as("the 23rd").hasSize(1);
    PieceHandout forB = report(task, "b", allButRare, List.of(), sourced.get("b"));
    assertThat(forB.pieces()).as("over the budget: b gets the rare piece from a peer").singleElement()
        .satisfies(p -> {
          assertThat(p.piece()).isEqualTo(rare);
          assertThat(p.source()).isFalse();
        });
  }

  @Test
  void amongHoldersAlikeInPlaceTheFasterAsMeasuredComesFirst() {
    DistributionTask task = task(2, "a", "b", "c", "d");
    board.create(task, List.of(node("a", "http://10.0.1.1:1", "edge"), node("b", "http://10.0.1.2:1", "edge"),
        node("c", "http://10.0.2.3:1", "edge"), node("d", "http://10.0.2.4:1", "edge")));
    report(task, "a", bitsOf(0, 1), List.of());
    report(task, "b", bitsOf(0, 1), List.of());
    // d measured a at 1 MB/s and b at 20 MB/s; c, in neither's /24, asks
    reportWithRates(task, "d", new TaskReport.HolderRate(urlOf("a"), 1_000_000),
        new TaskReport.HolderRate(urlOf("b"), 20_000_000));
    now.addAndGet(1_100_000_000L); // the speeds are worked out once a second
    assertThat(report(task, "c", new BitSet(), List.of()).pieces()).filteredOn(p -> !p.source()).isNotEmpty()
        .allSatisfy(p ->
        assertThat(p.from().getFirst()).isEqualTo(urlOf("b")));
    // later a measured at 40 MB/s: a first
    reportWithRates(task, "d", new TaskReport.HolderRate(urlOf("a"), 40_000_000),
        new TaskReport.HolderRate(urlOf("b"), 20_000_000));
    now.addAndGet(1_100_000_000L);
    assertThat(report(task, "c", new BitSet(), List.of()).pieces()).filteredOn(p -> !p.source()).isNotEmpty()
        .allSatisfy(p ->
        assertThat(p.from().getFirst()).isEqualTo(urlOf("a")));
    // a report naming more holders than a report may is refused
    List<TaskReport.HolderRate> many = new ArrayList<>();
    for (int i = 0; i <= TaskReport.MAX_HOLDER_RATES; i++) {
      many.add(new TaskReport.HolderRate("http://10.0.9." + i + ":1", 1));
    }
    assertThatThrownBy(() -> reportWithRates(task, "d", many.toArray(TaskReport.HolderRate[]::new)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holderRates lists more than");
  }

  @Test
  void aLeaseLapsesWhenItsHolderStopsFetchingAndGoesElsewhere() {
    DistributionTask task = task(1, "a", "b");
    board.create(task, List.of(node("a", "http://10.0.1.1:1", "edge"), node("b", "http://10.0.1.2:1", "edge")));
    PieceHandout forA = report(task, "a", new BitSet(), List.of());
    assertThat(forA.pieces()).singleElement().satisfies(p -> assertThat(p.source()).isTrue());
    assertThat(report(task, "b", new BitSet(), List.of()).pieces()).as("leased to a").isEmpty();
    // a's last report listed no fetch of it, and the grace is over: the lease goes to b
    now.addAndGet((TaskBoard.LEASE_GRACE_MILLIS + 1) * 1_000_000L);
    assertThat(report(task, "b", new BitSet(), List.of()).pieces()).singleElement()
        .satisfies(p -> assertThat(p.source()).isTrue());
  }

  @Test
  void aCancelReachesTheTargetsAndABadReportChangesNothing() {
    DistributionTask task = task(2, "a");
    board.create(task, List.of(node("a", "http://10.0.1.1:1", "edge")));
    BitSet beyond = new BitSet();
    beyond.set(5);
    assertThatThrownBy(() -> report(task, "a", beyond, List.of())).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("have names piece 5");
    assertThat(board.status(task.id()).orElseThrow().targets().getFirst().state()).isEqualTo("offered");
    assertThat(board.cancel(task.id())).isTrue();
    assertThat(report(task, "a", new BitSet(), List.of()).cancel()).isTrue();
    assertThat(board.status(task.id()).orElseThrow().state()).isEqualTo("cancelled");
  }

  @Test
  void aTaskNoTargetReportsIsForgottenAndACancelledOneStaysCancelled() {
    DistributionTask kept = task(2, "a");
    DistributionTask quiet = task(2, "b");
    DistributionTask cancelled = new DistributionTask(quiet.version(), "fedcba9876543210fedcba9876543210",
        quiet.fid(), quiet.created(), quiet.file(), quiet.pieces(), List.of("c"), quiet.sources());
    quiet = new DistributionTask(quiet.version(), "00112233445566778899aabbccddeeff", quiet.fid(), quiet.created(),
        quiet.file(), quiet.pieces(), quiet.targets(), quiet.sources());
    board.create(kept, List.of(node("a", "http://10.0.1.1:1", "edge")));
    board.create(quiet, List.of(node("b", "http://10.0.1.2:1", "edge")));
    board.create(cancelled, List.of(node("c", "http://10.0.2.3:1", "edge")));
    board.cancel(cancelled.id());
    // a reports its task every 5 s (as a done target does while it keeps its copy); b and c are away
    for (long ms = 0; ms <= TaskBoard.FORGET_AFTER_MILLIS + 5000; ms += 5000) {
      now.addAndGet(5_000_000_000L);
      report(kept, "a", bitsOf(0, 1), List.of());
    }
    assertThat(board.status(kept.id())).as("reported all along").isPresent();
    assertThat(board.status(quiet.id())).as("no report for 10 minutes").isEmpty();
    assertThat(board.status(cancelled.id())).isEmpty();
    // c comes back and reports its cancelled task with the definition: it is told to drop it
    TaskReport fromC = new TaskReport(TaskReport.VERSION, cancelled.id(), "c", "http://10.0.2.3:1", "fetching",
        null, TaskReport.encodeHave(new BitSet()), List.of(), 0, 0, 0, List.of(), cancelled);
    assertThat(board.report(fromC, SOURCES, n -> "edge").orElseThrow().cancel()).isTrue();
    assertThat(board.status(cancelled.id())).as("not learnt back").isEmpty();
    // b comes back: its running task is learnt back from its report
    TaskReport fromB = new TaskReport(TaskReport.VERSION, quiet.id(), "b", "http://10.0.1.2:1", "fetching",
        null, TaskReport.encodeHave(new BitSet()), List.of(), 0, 0, 0, List.of(), quiet);
    assertThat(board.report(fromB, SOURCES, n -> "edge").orElseThrow().cancel()).isFalse();
    assertThat(board.status(quiet.id())).isPresent();
  }

  @Test
  void aTrackerThatDoesNotKnowATaskLearnsItFromTheDefinition() {
    DistributionTask task = task(2, "a", "b");
    TaskReport bare = new TaskReport(TaskReport.VERSION, task.id(), "a", "http://10.0.1.1:1", "fetching", null,
        TaskReport.encodeHave(new BitSet()), List.of(), 0, 0, 0, List.of(), null);
    assertThat(board.report(bare, SOURCES, n -> "edge")).isEmpty();
    TaskReport withDefinition = new TaskReport(TaskReport.VERSION, task.id(), "a", "http://10.0.1.1:1", "fetching",
        null, TaskReport.encodeHave(new BitSet()), List.of(), 0, 0, 0, List.of(), task);
    assertThat(board.report(withDefinition, SOURCES, n -> "edge")).isPresent();
    assertThat(board.offeredTo("b")).as("offered again to the target not heard").containsExactly(task);
  }

  private PieceHandout report(DistributionTask task, String node, BitSet have, List<TaskReport.Fetch> fetching) {
    return report(task, node, have, fetching, 0);
  }

  private PieceHandout report(DistributionTask task, String node, BitSet have, List<TaskReport.Fetch> fetching,
                              long sourceBytes) {
    return board.report(new TaskReport(TaskReport.VERSION, task.id(), node, urlOf(node), "fetching", null,
        TaskReport.encodeHave(have), fetching, 0, sourceBytes, 0, List.of(), null), SOURCES, n -> "edge")
        .orElseThrow();
  }

  private PieceHandout reportWithRates(DistributionTask task, String node, TaskReport.HolderRate... sources) {
    return board.report(new TaskReport(TaskReport.VERSION, task.id(), node, urlOf(node), "fetching", null,
        TaskReport.encodeHave(new BitSet()), List.of(), 0, 0, 0, List.of(sources), null), SOURCES, n -> "edge")
        .orElseThrow();
  }

  private static BitSet bitsOf(int... pieces) {
    BitSet bits = new BitSet();
    for (int p : pieces) {
      bits.set(p);
    }
    return bits;
  }

  /** Four fetches from a peer outside the task (pieces {@code first} to {@code first + 3}): no free stream. */
  private static List<TaskReport.Fetch> peerFetches(int first) {
    List<TaskReport.Fetch> fetches = new ArrayList<>();
    for (int i = 0; i < TaskBoard.STREAMS; i++) {
      fetches.add(new TaskReport.Fetch(first + i, "http://10.0.9.9:1"));
    }
    return fetches;
  }

  private static String urlOf(String node) {
    return switch (node) {
      case "a" -> "http://10.0.1.1:1";
      case "b" -> "http://10.0.1.2:1";
      case "c" -> "http://10.0.2.3:1";
      case "d" -> "http://10.0.2.4:1";
      case "e" -> "http://10.0.3.5:1";
      default -> "http://10.0.3.6:1";
    };
  }

  private static Heartbeat node(String id, String url, String zone) {
    return Heartbeat.of(2, id, 0, url, zone, "serving", 1, 1, 1, 0, List.of());
  }

  private static DistributionTask task(int pieces, String... targets) {
    List<DistributionTask.Piece> list = new ArrayList<>();
    for (int i = 0; i < pieces; i++) {
      list.add(new DistributionTask.Piece("1-65537," + Long.toHexString(0x100 + i) + "00000001", (long) i * 8,
          8, "ab".repeat(32)));
    }
    return new DistributionTask(DistributionTask.VERSION, "0123456789abcdef0123456789abcdef", "1-65537,9900000001",
        0, new DistributionTask.FileInfo(8L * pieces, 8, null, null, 0, 0), list, List.of(targets),
        List.of(new DistributionTask.Source(1, List.of(SOURCE))));
  }
}
