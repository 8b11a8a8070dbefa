package dev.wimg.transfer;

import java.io.InterruptedIOException;
import java.util.function.LongSupplier;

/**
 * A token bucket that holds a process's bulk bytes to a rate: each caller takes tokens for the
 * bytes it moved and waits while the bucket is short. Shared by every stream it caps, so the rate
 * holds for all of them together. The bucket holds at most one second of tokens, so an idle spell
 * allows at most a second's burst.
 *
 * <p>Thread-safe.
 */
public final class Throttle {

  /** Sleeps a number of nanoseconds ({@code Thread::sleep} in production). */
  @FunctionalInterface
  public interface Sleeper {
    void sleep(long nanos) throws InterruptedException;
  }

  private final long bytesPerSecond;
  private final LongSupplier nanoClock;
  private final Sleeper sleeper;
  private double tokens;
  private long refilledNanos;

  /** A throttle at {@code bytesPerSecond} on the system clock. */
  public Throttle(long bytesPerSecond) {
    this(bytesPerSecond, System::nanoTime, nanos -> Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000)));
  }

  /** As {@link #Throttle(long)}, on a given clock and sleeper (tests). */
  public Throttle(long bytesPerSecond, LongSupplier nanoClock, Sleeper sleeper) {
    if (bytesPerSecond <= 0) {
      throw new IllegalArgumentException("a rate must be > 0 bytes/s, got " + bytesPerSecond);
    }
    this.bytesPerSecond = bytesPerSecond;
    this.nanoClock = nanoClock;
    this.sleeper = sleeper;
    this.refilledNanos = nanoClock.getAsLong();
    this.tokens = bytesPerSecond;
  }

  /**
   * Takes tokens for {@code bytes} moved, waiting until the bucket has had time to refill for them.
   *
   * @throws InterruptedIOException when interrupted while waiting
   */
  public void acquire(long bytes) throws InterruptedIOException {
    long waitNanos;
    synchronized (this) {
      refill();
      tokens -= bytes;
      waitNanos = tokens >= 0 ? 0 : (long) (-tokens * 1e9 / bytesPerSecond);
    }
    if (waitNanos > 0) {
      try {
        sleeper.sleep(waitNanos);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while held to " + bytesPerSecond + " bytes/s");
      }
    }
  }

  private void refill() {
    long now = nanoClock.getAsLong();
    tokens = Math.min(bytesPerSecond, tokens + (now - refilledNanos) * (double) bytesPerSecond / 1e9);
    refilledNanos = now;
  }

  /** The rate, bytes per second. */
  public long bytesPerSecond() {
    return bytesPerSecond;
  }
}
