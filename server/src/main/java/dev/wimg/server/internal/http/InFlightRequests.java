package dev.wimg.server.internal.http;

import java.time.Duration;

/**
 * Counts requests between their head arriving and their response being written, so that shutdown
 * can wait briefly for them.
 */
public final class InFlightRequests {

  private final Object lock = new Object();
  /** Guarded by {@link #lock}. */
  private long count;

  public void begin() {
    synchronized (lock) {
      count++;
    }
  }

  public void end() {
    synchronized (lock) {
      count--;
      if (count == 0) {
        lock.notifyAll();
      }
    }
  }

  public long count() {
    synchronized (lock) {
      return count;
    }
  }

  /** Waits until no request is in flight or {@code timeout} passed; returns whether none is left. */
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lock) {
      while (count > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        lock.wait(Math.max(1, left / 1_000_000));
      }
      return true;
    }
  }
}
