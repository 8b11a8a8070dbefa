package dev.wimg.cli.internal;

import dev.wimg.client.WimgClient;
import java.time.Duration;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar on stderr (bytes, rate, time left; {@code me.tongfei:progressbar}) for a large
 * upload or download, shown once the transfer has lasted {@link #SHOW_AFTER}: a quick one prints
 * nothing. Nothing either when stderr is not the process's own, or the process has no terminal (a
 * script, a pipe, a test), so that output meant for programs stays clean.
 */
final class TransferProgress implements WimgClient.ProgressListener, AutoCloseable {

  /** A transfer shorter than this shows no bar. */
  static final Duration SHOW_AFTER = Duration.ofSeconds(2);

  private final String task;
  private final boolean terminal;
  private final long started = System.nanoTime();
  private ProgressBar bar;

  private TransferProgress(String task, boolean terminal) {
    this.task = task;
    this.terminal = terminal;
  }

  /** A bar named {@code task}, if {@code environment}'s stderr is a terminal's. */
  static TransferProgress of(Environment environment, String task) {
    return new TransferProgress(task, onTerminal(environment));
  }

  /**
   * Whether a progress bar may be drawn: {@code environment}'s stderr is the process's own and the
   * process has a terminal. Also the rule of {@link TaskProgress}.
   */
  static boolean onTerminal(Environment environment) {
    java.io.Console console = System.console();
    return environment.err() == System.err && console != null && console.isTerminal();
  }

  @Override
  public synchronized void progress(long done, long total) {
    if (!terminal) {
      return;
    }
    if (bar == null) {
      if (System.nanoTime() - started < SHOW_AFTER.toNanos()) {
        return;
      }
      bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
          .setUnit(" MiB", 1 << 20).showSpeed().setUpdateIntervalMillis(250).continuousUpdate().build();
    }
    bar.maxHint(total);
    bar.stepTo(done);
  }

  @Override
  public synchronized void close() {
    if (bar != null) {
      bar.close();
    }
  }
}
