package dev.wimg.server.internal.files;

import dev.wimg.server.internal.http.Exchange;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.traffic.GlobalTrafficShapingHandler;
import io.netty.util.AsciiString;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What a node sends for distribution pieces: the answers to {@code GET}s that carry {@code
 * X-Wimg-Task} (a target fetching a piece of a task, docs/DISTRIBUTION.md, "Caps").
 *
 * <ul>
 *   <li>At most {@code slots} such answers at once; the next is refused at once with {@code 503},
 *       {@code Retry-After: 0} and a JSON body, never queued, so that its fetcher asks the next
 *       holder its handout names instead of waiting behind a busy one, and no fallback storm piles
 *       up on a source.</li>
 *   <li>Optionally a byte rate for all of them together: a connection that asks for a piece gets
 *       the node's one {@link GlobalTrafficShapingHandler} at the socket end of its pipeline, so
 *       pieces share the rate while reads on other connections (clients, replication) are never
 *       shaped. Targets keep their piece connections for pieces alone ({@code ChunkFetch}, one pool
 *       per task runner), so nothing else waits behind the shaping.</li>
 * </ul>
 * The header is no credential: a client that sends it only limits itself.
 */
public final class PieceUploads implements AutoCloseable {

  /** The header a piece request carries: the task's id. */
  public static final AsciiString TASK_HEADER = AsciiString.cached("x-wimg-task");
  private static final String SHAPER = "wimg-piece-rate";

  private final int slots;
  private final AtomicInteger sending = new AtomicInteger();
  private final GlobalTrafficShapingHandler shaper;

  /**
   * @param slots    piece answers at once, or 0 for no limit
   * @param rate     bytes per second all piece answers together may send, or 0 for no cap
   * @param executor runs the shaper's delayed writes and its counter (the server's event loops)
   */
  public PieceUploads(int slots, long rate, ScheduledExecutorService executor) {
    if (slots < 0 || rate < 0) {
      throw new IllegalArgumentException("slots and rate must be >= 0, got " + slots + " and " + rate);
    }
    this.slots = slots;
    // checks every 100 ms rather than every second: a piece's burst is spread over the next ones
    this.shaper = rate > 0 ? new GlobalTrafficShapingHandler(executor, rate, 0, 100) : null;
  }

  /**
   * Takes a slot for {@code ex} if it asks for a piece, held until the exchange ends; answers
   * {@code 503} and returns false when every slot is taken. True for any other request.
   */
  public boolean admit(Exchange ex) {
    if (!ex.request().headers().contains(TASK_HEADER)) {
      return true;
    }
    if (sending.incrementAndGet() > slots && slots > 0) {
      sending.decrementAndGet();
      FullHttpResponse busy = ex.server().errors().error(ex.alloc(), HttpResponseStatus.SERVICE_UNAVAILABLE,
          "this node sends " + slots + " pieces already: fetch this one from another holder");
      busy.headers().set(HttpHeaderNames.RETRY_AFTER, "0");
      ex.respond(busy);
      return false;
    }
    ex.onEnd(sending::decrementAndGet); // counted with no limit too: the gauge shows it
    ChannelPipeline pipeline = ex.ctx().pipeline();
    if (shaper != null && pipeline.get(SHAPER) == null) {
      pipeline.addFirst(SHAPER, shaper);
    }
    return true;
  }

  /** Piece answers being sent now. */
  public int sending() {
    return sending.get();
  }

  @Override
  public void close() {
    if (shaper != null) {
      shaper.release();
    }
  }
}
