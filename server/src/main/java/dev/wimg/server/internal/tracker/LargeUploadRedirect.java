package dev.wimg.server.internal.tracker;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;

/**
 * Uploads a tracker sends on by redirect rather than through itself: a {@code POST /files} whose
 * body is larger than the tracker buffers ({@code --max-upload}) or of unknown length (chunked),
 * and the creation of a resumable upload ({@code POST /uploads/}: its later requests go to the
 * node that holds it, by the {@code Location} that node answers). Such a request is answered from
 * its head, before any of its body is read (so before {@code 100 Continue}), with the
 * {@code 307} of {@link TrackerHandler#uploadRedirect}, and the connection closed after it. A
 * client that asked {@code Expect: 100-continue} (curl and the Java client do for large bodies)
 * sends no body; one that sends it anyway has it dropped as it comes, and the connection is
 * closed once it is all in. {@code curl -L}, tus clients and the Java client
 * send it again to the node named.
 *
 * <p>One instance per connection: it sits between the HTTP codec and the body aggregator.
 */
public final class LargeUploadRedirect extends ChannelInboundHandlerAdapter {

  private final long maxBufferedBytes;
  private final TrackerHandler tracker;
  /** The rest of a redirected request's body is being dropped. */
  private boolean dropping;

  public LargeUploadRedirect(long maxBufferedBytes, TrackerHandler tracker) {
    this.maxBufferedBytes = maxBufferedBytes;
    this.tracker = tracker;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (dropping) {
      boolean last = msg instanceof LastHttpContent;
      ReferenceCountUtil.release(msg);
      if (last) {
        dropping = false;
        ctx.close();
      }
      return;
    }
    if (msg instanceof HttpRequest head && head.decoderResult().isSuccess() && redirected(head)) {
      boolean whole = msg instanceof LastHttpContent;
      FullHttpResponse response = tracker.uploadRedirect(ctx.alloc(), head);
      ReferenceCountUtil.release(msg);
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      if (whole) {
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
      } else {
        // closed once the body is in: closing with unread bytes would reset the connection, and
        // the reset can destroy the answer before the client reads it
        dropping = true;
        ctx.writeAndFlush(response);
      }
      return;
    }
    ctx.fireChannelRead(msg);
  }

  private boolean redirected(HttpRequest head) {
    if (head.method() != HttpMethod.POST) {
      return false;
    }
    String path = new QueryStringDecoder(head.uri()).path();
    if (path.equals("/uploads") || path.equals("/uploads/")) {
      return true;
    }
    return path.equals("/files") && (HttpUtil.isTransferEncodingChunked(head)
        || HttpUtil.getContentLength(head, 0L) > maxBufferedBytes);
  }
}
