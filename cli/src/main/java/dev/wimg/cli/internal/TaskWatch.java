package dev.wimg.cli.internal;

import dev.wimg.cli.ExitCode;
import dev.wimg.client.BrokenExchangeException;
import dev.wimg.client.ServerUnreachableException;
import dev.wimg.client.WimgException;
import dev.wimg.protocol.TaskStatus;
import java.io.IOException;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * Waits for a distribution task to end ({@code wimg distribute --wait}): asks the tracker for it
 * every {@link #POLL_EVERY} and hands each answer on, until its state is {@code done} or
 * {@code failed}.
 *
 * <p>Losing the tracker for a while is waited out: no connection, no answer within the request
 * timeout, a broken exchange, {@code 502}/{@code 503}/{@code 504}, and {@code 404} (a restarted
 * tracker learns the task again from its targets' next reports, within a second:
 * docs/DISTRIBUTION.md, Tracker restart). Once such failures have lasted {@link #GIVE_UP_AFTER}
 * with no good answer between them, it gives up: {@link ExitCode#UNREACHABLE}, or
 * {@link ExitCode#NOT_FOUND} if the tracker answered all along but did not know the task. Either
 * way the targets go on with the task, and the message says how to look at it later. Any other
 * failure (a refused request, an answer that is not a task) ends the wait at once.
 *
 * <p>Takes its clock as an argument, so that a test runs the 30 s in no time.
 */
final class TaskWatch {

  /** Time between two polls. */
  static final Duration POLL_EVERY = Duration.ofMillis(500);
  /** How long the tracker may fail every poll before the wait is given up. */
  static final Duration GIVE_UP_AFTER = Duration.ofSeconds(30);

  /** One request for the task's status. */
  @FunctionalInterface
  interface Poll {
    TaskStatus poll() throws IOException;
  }

  /** Time, and waiting for it to pass. */
  interface Clock {
    long nanoTime();

    void sleep(Duration duration) throws InterruptedException;
  }

  /** The JVM's monotonic clock and {@link Thread#sleep}. */
  static final Clock SYSTEM = new Clock() {
    @Override
    public long nanoTime() {
      return System.nanoTime();
    }

    @Override
    public void sleep(Duration duration) throws InterruptedException {
      Thread.sleep(duration);
    }
  };

  private final String id;
  private final Poll poll;
  private final Clock clock;

  /**
   * @param id    the task, for messages
   * @param poll  asks the tracker for it
   * @param clock {@link #SYSTEM} but in tests
   */
  TaskWatch(String id, Poll poll, Clock clock) {
    this.id = id;
    this.poll = poll;
    this.clock = clock;
  }

  /**
   * Polls until the task has ended, handing every status (the {@code first} one too) to
   * {@code onStatus}.
   *
   * @param first the status already known (the answer to {@code POST /tasks}); not polled again
   *     at once
   * @return the status in which the task ended
   * @throws CliFailure {@link ExitCode#UNREACHABLE} or {@link ExitCode#NOT_FOUND} after
   *     {@link #GIVE_UP_AFTER} of failed polls
   * @throws IOException a failure that is not waited out (see the class comment)
   */
  TaskStatus untilEnded(TaskStatus first, Consumer<TaskStatus> onStatus) throws IOException, InterruptedException {
    onStatus.accept(first);
    if (first.ended()) {
      return first;
    }
    long failingSince = 0;
    boolean failing = false;
    while (true) {
      clock.sleep(POLL_EVERY);
      TaskStatus status;
      try {
        status = poll.poll();
      } catch (IOException e) {
        if (!waitedOut(e)) {
          throw e;
        }
        long now = clock.nanoTime();
        if (!failing) {
          failing = true;
          failingSince = now;
        } else if (now - failingSince >= GIVE_UP_AFTER.toNanos()) {
          throw givenUp(e);
        }
        continue;
      }
      failing = false;
      onStatus.accept(status);
      if (status.ended()) {
        return status;
      }
    }
  }

  /** Whether {@code e} is the tracker being away for a while rather than a real answer. */
  static boolean waitedOut(IOException e) {
    return switch (e) {
      case ServerUnreachableException u -> true;
      case HttpTimeoutException t -> true;
      case BrokenExchangeException b -> true;
      case WimgException w -> w.status() == 404 || w.status() == 502 || w.status() == 503 || w.status() == 504;
      default -> false;
    };
  }

  private CliFailure givenUp(IOException last) {
    String later = "; its targets go on with it: see it later with `wimg tasks " + id + "`";
    if (last instanceof WimgException w && w.status() == 404) {
      return new CliFailure(ExitCode.NOT_FOUND, "task " + id + ": the tracker has not known it for "
          + GIVE_UP_AFTER.toSeconds() + " s (" + w.getMessage() + ")" + later, last);
    }
    return new CliFailure(ExitCode.UNREACHABLE, "task " + id + ": no answer from the tracker for "
        + GIVE_UP_AFTER.toSeconds() + " s (last: " + last.getMessage() + ")" + later, last);
  }
}
