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
  void aTrackerThatDoesNotKnowATaskLearnsItFromTheDefinition() {
    DistributionTask task = task(2, "a", "b");
    TaskReport bare = new TaskReport(TaskReport.VERSION, task.id(), "a", "http://10.0.1.1:1", "fetching", null,
        TaskReport.encodeHave(new BitSet()), List.of(), 0, 0, 0, null);
    assertThat(board.report(bare, SOURCES, n -> "edge")).isEmpty();
    TaskReport withDefinition = new TaskReport(TaskReport.VERSION, task.id(), "a", "http://10.0.1.1:1", "fetching",
        null, TaskReport.encodeHave(new BitSet()), List.of(), 0, 0, 0, task);
    assertThat(board.report(withDefinition, SOURCES, n -> "edge")).isPresent();
    assertThat(board.offeredTo("b")).as("offered again to the target not heard").containsExactly(task);
  }

  private PieceHandout report(DistributionTask task, String node, BitSet have, List<TaskReport.Fetch> fetching) {
    return board.report(new TaskReport(TaskReport.VERSION, task.id(), node, urlOf(node), "fetching", null,
        TaskReport.encodeHave(have), fetching, 0, 0, 0, null), SOURCES, n -> "edge").orElseThrow();
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
