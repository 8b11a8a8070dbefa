package dev.wimg.server.internal.upload;

import dev.wimg.server.internal.http.BodySink;
import dev.wimg.server.internal.http.Exchange;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * The byte accounting every upload body shares: the per-request limit ({@code 413}) and the
 * server-wide memory budget of {@link UploadBudget} ({@code 503}), reserved as the body arrives.
 *
 * <p>Confined to the event loop, like the {@link BodySink} that owns it.
 */
final class UploadQuota {

  private final UploadHandler owner;
  private final Exchange ex;
  private final long limit;
  private long reserved;
  private long received;

  /**
   * @param reserved budget bytes already reserved for this request (from its Content-Length)
   */
  UploadQuota(UploadHandler owner, Exchange ex, long limit, long reserved) {
    this.owner = owner;
    this.ex = ex;
    this.limit = limit;
    this.reserved = reserved;
  }

  /**
   * Counts {@code content} against the limit and the budget. When either is exceeded it releases
   * {@code content}, runs {@code abort} (which must end in {@link #releaseReservation()}), answers
   * the exchange with 413 or 503, and returns false.
   */
  boolean admit(HttpContent content, Runnable abort) {
    int n = content.content().readableBytes();
    if (received + n > limit) {
      content.release();
      abort.run();
      ex.closeAfterResponse();
      ex.error(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
          "upload exceeds the limit of " + limit + " bytes");
      return false;
    }
    if (received + n > reserved) {
      long more = received + n - reserved;
      if (!owner.server().uploads().tryReserve(more)) {
        content.release();
        abort.run();
        owner.busy(ex);
        return false;
      }
      reserved += more;
    }
    received += n;
    return true;
  }

  /** Body bytes admitted so far. */
  long received() {
    return received;
  }

  /** Gives the reserved bytes back to the budget; once, when the body's buffers are released. */
  void releaseReservation() {
    owner.server().uploads().release(reserved);
  }
}
