package dev.wimg.transfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The token bucket on a fake clock: its rate, its one-second burst, and no wait within it. */
class ThrottleTest {

  /** A clock that moves only when the throttle sleeps (or the test moves it), and the sleep total. */
  private final AtomicLong now = new AtomicLong();
  private final AtomicLong slept = new AtomicLong();

  private Throttle throttle(long bytesPerSecond) {
    return new Throttle(bytesPerSecond, now::get, nanos -> {
      slept.addAndGet(nanos);
      now.addAndGet(nanos);
    });
  }

  @Test
  void bytesBeyondTheRateWaitTheirTime() throws Exception {
    Throttle t = throttle(1_000_000);
    t.acquire(1_000_000); // the bucket starts full: a second's worth at once
    assertThat(slept.get()).isZero();
    for (int i = 0; i < 10; i++) {
      t.acquire(300_000);
    }
    // 3 MB more at 1 MB/s: 3 s of waiting
    assertThat(slept.get()).isBetween(2_990_000_000L, 3_010_000_000L);
  }

  @Test
  void anIdleSpellAllowsOneSecondsBurstAtMost() throws Exception {
    Throttle t = throttle(1_000_000);
    t.acquire(1_000_000);
    now.addAndGet(60_000_000_000L); // a minute idle
    t.acquire(1_500_000);
    assertThat(slept.get()).as("half a second beyond the one-second burst").isBetween(490_000_000L, 510_000_000L);
    assertThatThrownBy(() -> new Throttle(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
