package dev.wimg.cli.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.cli.ExitCode;
import dev.wimg.client.BrokenExchangeException;
import dev.wimg.client.ServerUnreachableException;
import dev.wimg.client.WimgException;
import dev.wimg.protocol.TaskStatus;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The wait of {@code distribute --wait}, on a fake clock and a scripted tracker. */
class TaskWatchTest {

  private static final String ID = "4f1c0a9b2d3e4f5061728394a5b6c7d8";
  private static final URI TRACKER = URI.create("http://127.0.0.1:9330");

  /** Time passes only by the watch's sleeps. */
  private static final class FakeClock implements TaskWatch.Clock {
    long now;
    int sleeps;

    @Override
    public long nanoTime() {
      return now;
    }

    @Override
    public void sleep(Duration duration) {
      now += duration.toNanos();
      sleeps++;
    }
  }

  /** A tracker answering each poll with the next of its answers: a status, or an exception thrown. */
  private static TaskWatch.Poll tracker(Object... answers) {
    Deque<Object> left = new ArrayDeque<>(List.of(answers));
    return () -> {
      Object next = left.isEmpty() ? new ServerUnreachableException(TRACKER, "connection refused", null) : left.peek();
      if (left.size() > 1) {
        left.pop();
      }
      if (next instanceof IOException e) {
        throw e;
      }
      return (TaskStatus) next;
    };
  }

  private static TaskStatus status(String state) {
    return new TaskStatus(1, ID, "1-65537,0a1b2c3d4e", 1L << 28, 32, 0, state, 0, 0, List.of());
  }

  private static IOException refused() {
    return new ServerUnreachableException(TRACKER, "connection refused", null);
  }

  @Test
  void pollsEveryHalfSecondUntilTheTaskEndsAndHandsOnEveryStatus() throws Exception {
    FakeClock clock = new FakeClock();
    List<String> seen = new ArrayList<>();
    TaskStatus end = new TaskWatch(ID, tracker(status("running"), status("running"), status("done")), clock)
        .untilEnded(status("running"), s -> seen.add(s.state()));
    assertThat(end.state()).isEqualTo("done");
    assertThat(seen).containsExactly("running", "running", "running", "done");
    assertThat(clock.sleeps).isEqualTo(3);
    assertThat(clock.now).isEqualTo(Duration.ofMillis(1500).toNanos());
  }

  @Test
  void aTaskThatEndedAlreadyIsNotPolled() throws Exception {
    FakeClock clock = new FakeClock();
    TaskStatus failed = status("failed");
    assertThat(new TaskWatch(ID, tracker(), clock).untilEnded(failed, s -> {})).isSameAs(failed);
    assertThat(clock.sleeps).isZero();
  }

  @Test
  void aTrackerAwayForLessThan30SecondsIsWaitedOut() throws Exception {
    FakeClock clock = new FakeClock();
    List<Object> answers = new ArrayList<>();
    // 59 failed polls in a row span 29 s; then the tracker is back, then away again as long.
    for (int i = 0; i < 59; i++) {
      answers.add(switch (i % 5) {
        case 0 -> refused();
        case 1 -> new HttpTimeoutException("no answer within 10 s");
        case 2 -> new BrokenExchangeException("connection reset", null);
        case 3 -> new WimgException(503, "starting");
        default -> new WimgException(404, "no task " + ID);
      });
    }
    answers.add(status("running"));
    for (int i = 0; i < 59; i++) {
      answers.add(refused());
    }
    answers.add(status("done"));
    TaskStatus end = new TaskWatch(ID, tracker(answers.toArray()), clock).untilEnded(status("running"), s -> {});
    assertThat(end.state()).isEqualTo("done");
  }

  @Test
  void aTrackerAwayFor30SecondsInARowEndsTheWaitAsUnreachable() {
    FakeClock clock = new FakeClock();
    TaskWatch watch = new TaskWatch(ID, tracker(status("running"), refused()), clock);
    assertThatThrownBy(() -> watch.untilEnded(status("running"), s -> {}))
        .isInstanceOfSatisfying(CliFailure.class, f -> assertThat(f.exitCode()).isEqualTo(ExitCode.UNREACHABLE))
        .hasMessage("task " + ID + ": no answer from the tracker for 30 s (last: cannot reach the WIMG server at "
            + TRACKER + ": connection refused); its targets go on with it: see it later with `wimg tasks " + ID + "`");
    // The first failed poll at 1 s, the last at 31 s.
    assertThat(clock.now).isEqualTo(Duration.ofSeconds(31).toNanos());
  }

  @Test
  void aTrackerThatDoesNotKnowTheTaskFor30SecondsEndsTheWaitAsNotFound() {
    FakeClock clock = new FakeClock();
    TaskWatch watch = new TaskWatch(ID, tracker(new WimgException(404, "no task " + ID)), clock);
    assertThatThrownBy(() -> watch.untilEnded(status("running"), s -> {}))
        .isInstanceOfSatisfying(CliFailure.class, f -> assertThat(f.exitCode()).isEqualTo(ExitCode.NOT_FOUND))
        .hasMessageStartingWith("task " + ID + ": the tracker has not known it for 30 s (no task " + ID
            + " (HTTP 404)); ");
  }

  @Test
  void anyOtherFailureEndsTheWaitAtOnce() {
    FakeClock clock = new FakeClock();
    WimgException refused = new WimgException(500, "internal error");
    TaskWatch watch = new TaskWatch(ID, tracker(status("running"), refused), clock);
    assertThatThrownBy(() -> watch.untilEnded(status("running"), s -> {})).isSameAs(refused);
    assertThat(clock.sleeps).isEqualTo(2);
    IOException garbled = new IOException("tracker answered GET /tasks/x with invalid JSON");
    assertThatThrownBy(() -> new TaskWatch(ID, tracker(garbled), new FakeClock()).untilEnded(status("running"), s -> {}))
        .isSameAs(garbled);
  }
}
