package dev.wimg.cli.internal;

import dev.wimg.protocol.TargetState;
import dev.wimg.protocol.TaskStatus;
import dev.wimg.protocol.TaskStatus.Target;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Distribution tasks ({@link TaskStatus}, a tracker's {@code /tasks}) as text for people: what
 * {@code wimg tasks} and {@code wimg distribute --wait} print.
 *
 * <p>{@link #render(List)}, one line per task:
 *
 * <pre>
 * ID                                FID                 STATE    TARGETS  SOURCE COPIES
 * 4f1c0a9b2d3e4f5061728394a5b6c7d8  1-65537,0a1b2c3d4e  running      3/7           1.13
 * </pre>
 *
 * <p>{@link #render(TaskStatus)}: that line, then one line per target:
 *
 * <pre>
 * NODE      URL                     ZONE  STATE     PIECES      BYTES        RATE  REASON
 * 90c4a1b2  http://10.78.0.12:8080  edge  fetching   17/32  136.0 MiB  23.0 MiB/s  -
 * 1d7e33f0  http://10.78.0.13:8080  edge  failed      3/32   24.0 MiB       0 B/s  no space left
 * </pre>
 *
 * <p>A task id is shown whole (it is what {@code wimg tasks ID} takes); a node id is cut to
 * {@value ClusterTable#MEMBER_ID_CHARS} characters, as {@code wimg status} shows it. Sizes are in
 * powers of 1024; source copies ({@code sourceBytes / size}) have two decimals. Text from the
 * tracker is printed with control characters replaced.
 */
final class TaskTable {

  private static final String[] TASK_HEADER = {"ID", "FID", "STATE", "TARGETS", "SOURCE COPIES"};
  private static final boolean[] TASK_RIGHT = {false, false, false, true, true};
  private static final String[] TARGET_HEADER = {"NODE", "URL", "ZONE", "STATE", "PIECES", "BYTES", "RATE",
      "REASON"};
  private static final boolean[] TARGET_RIGHT = {false, false, false, false, true, true, true, false};

  private TaskTable() {}

  /** One line per task under a header; {@code no tasks} if there are none. */
  static String render(List<TaskStatus> tasks) {
    if (tasks.isEmpty()) {
      return "no tasks\n";
    }
    List<String[]> rows = new ArrayList<>(tasks.size() + 1);
    rows.add(TASK_HEADER);
    for (TaskStatus t : tasks) {
      rows.add(taskRow(t));
    }
    StringBuilder out = new StringBuilder();
    TextTable.appendAligned(rows, TASK_RIGHT, out);
    return out.toString();
  }

  /** The task's line under a header, an empty line, then one line per target under theirs. */
  static String render(TaskStatus task) {
    StringBuilder out = new StringBuilder();
    TextTable.appendAligned(List.of(TASK_HEADER, taskRow(task)), TASK_RIGHT, out);
    out.append('\n');
    List<String[]> rows = new ArrayList<>(task.targets().size() + 1);
    rows.add(TARGET_HEADER);
    for (Target t : task.targets()) {
      rows.add(new String[] {shortId(t.node()), cell(t.url()), cell(t.zone()), cell(t.state()),
          t.pieces() + "/" + task.pieces(), TextTable.bytes(t.bytes()), rate(t.rate()), cell(t.reason())});
    }
    TextTable.appendAligned(rows, TARGET_RIGHT, out);
    return out.toString();
  }

  /**
   * What {@code wimg distribute --wait} prints once the task is done:
   * {@code task <id>: <n> targets done in <s> s, source sent <x.xx> copies}.
   */
  static String summary(TaskStatus task, Duration took) {
    return String.format(Locale.ROOT, "task %s: %d targets done in %.1f s, source sent %s copies",
        TextTable.printable(task.id()), targetsDone(task), took.toMillis() / 1000.0, copies(task.sourceCopies()));
  }

  /**
   * The progress of a running task in a few words, beside a progress bar (an 80-column terminal
   * leaves little room): {@code 3/7 done, 1 down, source 1.13 copies}, targets done of all, the
   * down count only if there are any.
   */
  static String progress(TaskStatus task) {
    long down = task.targets().stream().filter(t -> TargetState.DOWN.token().equals(t.state())).count();
    return targetsDone(task) + "/" + task.targets().size() + " done" + (down == 0 ? "" : ", " + down + " down")
        + ", source " + copies(task.sourceCopies()) + " copies";
  }

  /** Pieces verified, summed over the targets; out of {@link #piecesWanted}. */
  static long piecesVerified(TaskStatus task) {
    return task.targets().stream().mapToLong(Target::pieces).sum();
  }

  /** Every target's every piece: the task's pieces times its targets. */
  static long piecesWanted(TaskStatus task) {
    return (long) task.pieces() * task.targets().size();
  }

  /** The failed targets, one line each: {@code node <id> at <url>: <reason>}, for stderr. */
  static List<String> failures(TaskStatus task) {
    return task.targets().stream().filter(t -> TargetState.FAILED.token().equals(t.state()))
        .map(t -> "node " + TextTable.printable(t.node()) + " at " + TextTable.printable(t.url()) + ": "
            + (t.reason() == null ? "no reason given" : TextTable.printable(t.reason())))
        .toList();
  }

  static int targetsDone(TaskStatus task) {
    return (int) task.targets().stream().filter(t -> TargetState.DONE.token().equals(t.state())).count();
  }

  private static String[] taskRow(TaskStatus t) {
    return new String[] {cell(t.id()), cell(t.fid()), cell(t.state()), targetsDone(t) + "/" + t.targets().size(),
        copies(t.sourceCopies())};
  }

  /** A table cell of tracker text: printable, {@code -} if missing or empty. */
  private static String cell(String text) {
    return text == null || text.isEmpty() ? "-" : TextTable.printable(text);
  }

  /** Two decimals; {@code -} for a value the tracker could not work out (NaN, infinite). */
  static String copies(double copies) {
    return Double.isFinite(copies) ? String.format(Locale.ROOT, "%.2f", copies) : "-";
  }

  /** Bytes per second: {@code 23.0 MiB/s}; {@code -} for unknown (negative). */
  static String rate(long bytesPerSecond) {
    return bytesPerSecond < 0 ? "-" : TextTable.bytes(bytesPerSecond) + "/s";
  }

  private static String shortId(String id) {
    return cell(id == null || id.length() <= ClusterTable.MEMBER_ID_CHARS ? id
        : id.substring(0, ClusterTable.MEMBER_ID_CHARS));
  }
}
