package dev.wimg.cli.internal;

import dev.wimg.protocol.TaskStatus;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar on stderr for {@code wimg distribute --wait}: pieces verified, summed over the
 * targets, out of the task's pieces times its targets, with targets done of all and the copies the
 * source sent beside it ({@link TaskTable#progress}):
 *
 * <pre>
 * task 4f1c0a9b  53% [=====>     ] 34/64 (0:00:03 / 0:00:02) 1/2 done, source 0.61 copies
 * </pre>
 *
 * <p>Shown as {@link TransferProgress} shows its bars: once the wait has lasted
 * {@link TransferProgress#SHOW_AFTER}, and only on a terminal ({@link TransferProgress#onTerminal}),
 * so that output meant for programs stays clean.
 */
final class TaskProgress implements AutoCloseable {

  private final String name;
  private final boolean terminal;
  private final long started = System.nanoTime();
  private ProgressBar bar;

  private TaskProgress(String name, boolean terminal) {
    this.name = name;
    this.terminal = terminal;
  }

  /** A bar for task {@code id}, if {@code environment}'s stderr is a terminal's. */
  static TaskProgress of(Environment environment, String id) {
    return new TaskProgress("task " + id.substring(0, Math.min(id.length(), ClusterTable.MEMBER_ID_CHARS)),
        TransferProgress.onTerminal(environment));
  }

  /** Shows {@code status}. */
  void update(TaskStatus status) {
    if (!terminal) {
      return;
    }
    if (bar == null) {
      if (System.nanoTime() - started < TransferProgress.SHOW_AFTER.toNanos()) {
        return;
      }
      bar = new ProgressBarBuilder().setTaskName(name).setInitialMax(TaskTable.piecesWanted(status))
          .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250)
          .continuousUpdate().build();
    }
    bar.maxHint(TaskTable.piecesWanted(status));
    bar.stepTo(TaskTable.piecesVerified(status));
    bar.setExtraMessage(TaskTable.progress(status));
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
    }
  }
}
