package dev.wimg.bench.jmh;

import dev.wimg.protocol.DistributionTask;
import dev.wimg.protocol.Heartbeat;
import dev.wimg.protocol.PieceHandout;
import dev.wimg.protocol.TaskReport;
import dev.wimg.server.internal.tracker.TaskBoard;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A tracker's cost per distribution report ({@code TaskBoard.report}: take the report, answer its
 * handout) against the number of targets and pieces: the work a tracker does per target and
 * report, which must stay small when a file goes to thousands of nodes (Kraken's 2,600).
 *
 * <p>One task; its targets in 250-node /24s, each holding a random half of the pieces, with a
 * measured rate for a few holders; the reports come from the targets in turn, each with a fresh
 * half of the pieces (so the holders' counts change at every report), 1 ms apart on the board's
 * clock.
 *
 * <pre>
 * bench/jmh.sh TaskBoardBenchmark
 * bench/jmh.sh TaskBoardBenchmark -p targets=2600 -p pieces=384
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class TaskBoardBenchmark {

  /** Targets of the task: the benchmark's 7, a zone's hundred, a fleet's thousand. */
  @Param({"7", "100", "1000"})
  int targets;

  /** Pieces of the file: 256 MiB and 3 GiB in 8 MiB chunks. */
  @Param({"32", "384"})
  int pieces;

  private static final String SOURCE = "http://10.255.0.1:8080";
  private static final IntFunction<List<Heartbeat>> SOURCES = group -> List.of(Heartbeat.of(1, "source", 0, SOURCE,
      "origin", "serving", 1, 1, 1, 0, List.of(1)));

  private final long[] clock = {1_000_000_000L};
  private TaskBoard board;
  private DistributionTask task;
  private List<String> urls;
  private TaskReport[] reports;
  private int next;

  @Setup(Level.Trial)
  public void setUp() {
    board = new TaskBoard(5_000_000_000L, () -> clock[0]);
    List<DistributionTask.Piece> list = new ArrayList<>();
    for (int i = 0; i < pieces; i++) {
      list.add(new DistributionTask.Piece("1-65537," + Long.toHexString(0x100 + i) + "00000001", (long) i << 23,
          8 << 20, "ab".repeat(32)));
    }
    List<String> ids = new ArrayList<>();
    List<Heartbeat> nodes = new ArrayList<>();
    urls = new ArrayList<>();
    for (int t = 0; t < targets; t++) {
      String url = "http://10." + t / 250 + "." + t % 250 + ".1:8080";
      ids.add("node-" + t);
      urls.add(url);
      nodes.add(Heartbeat.of(2 + t, "node-" + t, 0, url, "edge", "serving", 1, 1, 1, 0, List.of()));
    }
    task = new DistributionTask(DistributionTask.VERSION, "0123456789abcdef0123456789abcdef", "1-65537,9900000001",
        0, new DistributionTask.FileInfo((long) pieces << 23, 8 << 20, null, null, 0, 0), list, ids,
        List.of(new DistributionTask.Source(1, List.of(SOURCE))));
    board.create(task, nodes);
    SplittableRandom random = new SplittableRandom(7);
    reports = new TaskReport[targets * 4];
    for (int r = 0; r < reports.length; r++) {
      int t = r % targets;
      java.util.BitSet have = new java.util.BitSet();
      for (int p = 0; p < pieces; p++) {
        if (random.nextBoolean()) {
          have.set(p);
        }
      }
      List<TaskReport.HolderRate> rates = List.of(
          new TaskReport.HolderRate(urls.get(random.nextInt(targets)), 5_000_000 + random.nextInt(20_000_000)),
          new TaskReport.HolderRate(urls.get(random.nextInt(targets)), 5_000_000 + random.nextInt(20_000_000)));
      reports[r] = new TaskReport(TaskReport.VERSION, task.id(), "node-" + t, urls.get(t), "fetching", null,
          TaskReport.encodeHave(have), List.of(), 0, 0, 0, rates, null);
    }
    for (TaskReport r : reports) {
      report(r); // every target heard once: all live
    }
  }

  @Benchmark
  public PieceHandout report() {
    TaskReport r = reports[next];
    next = next + 1 == reports.length ? 0 : next + 1;
    return report(r);
  }

  private PieceHandout report(TaskReport r) {
    clock[0] += 1_000_000;
    return board.report(r, SOURCES, node -> "edge").orElseThrow();
  }
}
