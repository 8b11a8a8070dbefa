package dev.wimg.cli.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.protocol.TaskStatus;
import dev.wimg.protocol.TaskStatus.Target;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class TaskTableTest {

  private static final String ID = "4f1c0a9b2d3e4f5061728394a5b6c7d8";

  private static final Target FETCHING = new Target("90c4a1b2-0d6e-4f7a-9b1c-2d3e4f506172",
      "http://10.78.0.12:8080", "edge", "fetching", 17, 17L << 23, 9L << 23, 24_100_000, 310, null);
  private static final Target FAILED = new Target("1d7e33f0-aaaa-bbbb-cccc-dddddddddddd",
      "http://10.78.0.13:8080", "edge", "failed", 3, 3L << 23, 0, 0, 1200, "no space left\u001b[2J");
  private static final Target DONE = new Target("77aa0b1c-0000-1111-2222-333333333333",
      "http://10.78.0.14:8080", "", "done", 32, 32L << 23, 0, 0, 90, null);

  private static TaskStatus task(String id, String state, double copies, Target... targets) {
    return new TaskStatus(1, id, "1-65537,0a1b2c3d4e", 32L << 23, 32, 1_765_000_000_000L, state,
        (long) (copies * (32L << 23)), copies, List.of(targets));
  }

  @Test
  void listHasOneLinePerTaskWithTargetsDoneAndSourceCopies() {
    String table = TaskTable.render(List.of(task(ID, "running", 1.125, FETCHING, FAILED, DONE),
        task("00ff", "done", 1.0, DONE)));
    assertThat(table).isEqualTo(
        "ID                                FID                 STATE    TARGETS  SOURCE COPIES\n"
            + "4f1c0a9b2d3e4f5061728394a5b6c7d8  1-65537,0a1b2c3d4e  running      1/3           1.13\n"
            + "00ff                              1-65537,0a1b2c3d4e  done         1/1           1.00\n");
  }

  @Test
  void anEmptyListSaysSo() {
    assertThat(TaskTable.render(List.of())).isEqualTo("no tasks\n");
  }

  @Test
  void oneTaskHasItsLineThenOneLinePerTargetWithTrackerTextMadePrintable() {
    assertThat(TaskTable.render(task(ID, "running", 1.125, FETCHING, FAILED, DONE))).isEqualTo(
        "ID                                FID                 STATE    TARGETS  SOURCE COPIES\n"
            + "4f1c0a9b2d3e4f5061728394a5b6c7d8  1-65537,0a1b2c3d4e  running      1/3           1.13\n"
            + "\n"
            + "NODE      URL                     ZONE  STATE     PIECES      BYTES        RATE  REASON\n"
            + "90c4a1b2  http://10.78.0.12:8080  edge  fetching   17/32  136.0 MiB  23.0 MiB/s  -\n"
            + "1d7e33f0  http://10.78.0.13:8080  edge  failed      3/32   24.0 MiB       0 B/s  no space left?[2J\n"
            + "77aa0b1c  http://10.78.0.14:8080  -     done       32/32  256.0 MiB       0 B/s  -\n");
  }

  @Test
  void summaryCountsTargetsDoneAndTheCopiesTheSourceSent() {
    assertThat(TaskTable.summary(task(ID, "done", 1.126, DONE, DONE), Duration.ofMillis(12_345)))
        .isEqualTo("task " + ID + ": 2 targets done in 12.3 s, source sent 1.13 copies");
  }

  @Test
  void progressSumsPiecesOverTargetsAndCountsTargetsDown() {
    Target down = new Target("d", "http://10.78.0.15:8080", "edge", "down", 5, 5L << 23, 0, 0, 9000, null);
    TaskStatus t = task(ID, "running", 0.5, FETCHING, FAILED, DONE, down);
    assertThat(TaskTable.piecesVerified(t)).isEqualTo(17 + 3 + 32 + 5);
    assertThat(TaskTable.piecesWanted(t)).isEqualTo(32 * 4);
    assertThat(TaskTable.progress(t)).isEqualTo("1/4 done, 1 down, source 0.50 copies");
    assertThat(TaskTable.progress(task(ID, "running", 0, FETCHING))).isEqualTo("0/1 done, source 0.00 copies");
  }

  @Test
  void failuresNameEachFailedTargetWholeWithItsReason() {
    Target silent = new Target("e", "http://10.78.0.16:8080", "edge", "failed", 0, 0, 0, 0, 0, null);
    assertThat(TaskTable.failures(task(ID, "failed", 1.0, FETCHING, FAILED, DONE, silent))).containsExactly(
        "node 1d7e33f0-aaaa-bbbb-cccc-dddddddddddd at http://10.78.0.13:8080: no space left?[2J",
        "node e at http://10.78.0.16:8080: no reason given");
  }

  @Test
  void unknownFiguresAreADash() {
    assertThat(TaskTable.copies(Double.NaN)).isEqualTo("-");
    assertThat(TaskTable.rate(-1)).isEqualTo("-");
    assertThat(TaskTable.rate(1023)).isEqualTo("1023 B/s");
  }
}
