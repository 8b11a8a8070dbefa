package dev.wimg.server.internal.http;

import io.netty.channel.ChannelHandlerContext;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The time a client has to send its next request: slow, stalled and half-open clients are cut off
 * instead of holding a connection (and an upload's memory) forever.
 *
 * <ul>
 *   <li>{@link Phase#HEAD}: from the moment the server is ready for a request (connection open,
 *       previous response written) the whole request head must arrive within the idle timeout.
 *       This is both the keep-alive timeout and the defence against trickled headers.</li>
 *   <li>{@link Phase#BODY}: a body must make progress at least once per idle timeout, and keep
 *       an average of {@code minBytesPerSecond} after a grace of one idle timeout.</li>
 * </ul>
 *
 * <p>Implementation notes: confined to the channel's event loop. One timer at a time per
 * connection; moving the deadline only writes fields, and the timer re-arms itself for the
 * current deadline when it fires early, so a request costs no scheduling beyond its first.
 */
public final class ConnectionDeadline implements Runnable {

  /** What the connection is waiting for. */
  public enum Phase { NONE, HEAD, BODY }

  private final ChannelHandlerContext ctx;
  private final long idleNanos;
  private final long minBytesPerSecond;
  private final Consumer<Phase> onExpired;

  private Phase phase = Phase.NONE;
  private long phaseStart;
  private long lastProgress;
  private long received;
  private ScheduledFuture<?> timer;

  public ConnectionDeadline(ChannelHandlerContext ctx, long idleNanos, long minBytesPerSecond,
                            Consumer<Phase> onExpired) {
    this.ctx = ctx;
    this.idleNanos = idleNanos;
    this.minBytesPerSecond = minBytesPerSecond;
    this.onExpired = onExpired;
  }

  /** The server is ready for the next request head. */
  public void awaitHead() {
    enter(Phase.HEAD);
  }

  /** A head arrived and its body is being read. */
  public void awaitBody() {
    enter(Phase.BODY);
    received = 0;
  }

  /** Body bytes arrived. */
  public void progress(long bytes) {
    received += bytes;
    lastProgress = System.nanoTime();
  }

  /**
   * The server paused reading a body and now reads on: the body deadlines start again from now,
   * counting the bytes received so far.
   */
  public void resumeBody() {
    enter(Phase.BODY);
  }

  /** The request is complete (or its body paused): no deadline while the server works on it. */
  public void pause() {
    phase = Phase.NONE;
  }

  /** The connection is closing. */
  public void stop() {
    phase = Phase.NONE;
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void enter(Phase next) {
    phase = next;
    phaseStart = System.nanoTime();
    lastProgress = phaseStart;
    if (timer == null) {
      timer = ctx.executor().schedule(this, idleNanos, TimeUnit.NANOSECONDS);
    }
  }

  private long due() {
    if (phase == Phase.HEAD) {
      return phaseStart + idleNanos;
    }
    long stall = lastProgress + idleNanos;
    long rate = phaseStart + idleNanos + (long) (received * (1e9 / minBytesPerSecond));
    return Math.min(stall, rate);
  }

  @Override
  public void run() {
    timer = null;
    if (phase == Phase.NONE || !ctx.channel().isActive()) {
      return;
    }
    long left = due() - System.nanoTime();
    if (left > 0) {
      timer = ctx.executor().schedule(this, left, TimeUnit.NANOSECONDS);
      return;
    }
    Phase expired = phase;
    phase = Phase.NONE;
    onExpired.accept(expired);
  }
}
