package dev.wimg.server.internal.http;

import dev.wimg.server.internal.admin.ServerMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request and its single response. Handlers answer through {@link #respond} on the channel's
 * event loop, or hop there with {@link #onEventLoop} from other threads.
 *
 * <p>Confined to the event loop except {@link #onEventLoop}.
 */
public final class Exchange {

  private static final Logger log = LoggerFactory.getLogger(Exchange.class);

  /** The Server header: no version, nothing to fingerprint. */
  public static final AsciiString SERVER_NAME = AsciiString.cached("wimg");

  private final ChannelHandlerContext ctx;
  private final RequestDispatcher dispatcher;
  private final ServerContext server;
  private final HttpRequest request;
  private final RequestTarget target;
  private final int methodIndex;
  private final long startNanos;
  private boolean keepAlive;
  private boolean responded;
  private Runnable onEnd;

  Exchange(ChannelHandlerContext ctx, RequestDispatcher dispatcher, ServerContext server,
           HttpRequest request, RequestTarget target) {
    this.ctx = ctx;
    this.dispatcher = dispatcher;
    this.server = server;
    this.request = request;
    this.target = target;
    this.methodIndex = ServerMetrics.methodIndex(request.method());
    this.startNanos = System.nanoTime();
    this.keepAlive = HttpUtil.isKeepAlive(request);
  }

  public HttpRequest request() {
    return request;
  }

  /** The parsed request target, or null if it could not be parsed. */
  public RequestTarget target() {
    return target;
  }

  public ServerContext server() {
    return server;
  }

  public ByteBufAllocator alloc() {
    return ctx.alloc();
  }

  public ChannelHandlerContext ctx() {
    return ctx;
  }

  public boolean isHead() {
    return request.method() == HttpMethod.HEAD;
  }

  public boolean responded() {
    return responded;
  }

  /** Whether the request announced a body (a Content-Length above 0, or chunked). */
  public boolean hasBody() {
    return HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) > 0;
  }

  /**
   * Runs {@code action} once this exchange ends, whichever way: its response written and its
   * request read, or its connection closed. For what a handler holds for the length of an
   * exchange (a slot). Event loop only.
   */
  public void onEnd(Runnable action) {
    Runnable before = onEnd;
    onEnd = before == null ? action : () -> {
      before.run();
      action.run();
    };
  }

  /** The exchange is over: runs what {@link #onEnd} was given, once. Event loop only. */
  void ended() {
    Runnable action = onEnd;
    onEnd = null;
    if (action != null) {
      action.run();
    }
  }

  /** Closes the connection once the response is written. */
  public void closeAfterResponse() {
    keepAlive = false;
  }

  /**
   * Sends {@code response}: adds Server, Date, Connection and (unless the status forbids a body)
   * Content-Length from the body; counts it; then lets the connection move on. Event loop only.
   *
   * @return the write, complete once the response left for the socket (or failed)
   */
  public ChannelFuture respond(FullHttpResponse response) {
    if (responded) {
      ReferenceCountUtil.release(response);
      throw new IllegalStateException("response already sent for " + request.method() + " " + request.uri());
    }
    responded = true;
    HttpHeaders headers = response.headers();
    headers.set(HttpHeaderNames.SERVER, SERVER_NAME);
    headers.set(HttpHeaderNames.DATE, server.dates().now());
    int code = response.status().code();
    boolean bodyless = code == 204 || code == 304 || code < 200;
    if (!bodyless && !headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
      headers.setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
    }
    if (isHead() && response.content().isReadable()) {
      // HEAD: the headers of the GET answer, Content-Length included, and no body.
      ReferenceCountUtil.release(response);
      response = response.replace(Unpooled.EMPTY_BUFFER);
      headers = response.headers();
    }
    if (!keepAlive) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (request.protocolVersion() == HttpVersion.HTTP_1_0) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    server.metrics().recordResponse(methodIndex, code, System.nanoTime() - startNanos);
    ChannelFuture written = ctx.writeAndFlush(response);
    dispatcher.responseWritten(this, written, !keepAlive);
    return written;
  }

  /**
   * Starts a response whose body follows in pieces ({@link #writeBody}, then {@link #endBody}):
   * adds the same headers as {@link #respond}; {@code head} must carry its Content-Length. Event
   * loop only.
   */
  public void respondHead(HttpResponse head) {
    if (responded) {
      throw new IllegalStateException("response already sent for " + request.method() + " " + request.uri());
    }
    responded = true;
    HttpHeaders headers = head.headers();
    headers.set(HttpHeaderNames.SERVER, SERVER_NAME);
    headers.set(HttpHeaderNames.DATE, server.dates().now());
    if (!keepAlive) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (request.protocolVersion() == HttpVersion.HTTP_1_0) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    server.metrics().recordResponse(methodIndex, head.status().code(), System.nanoTime() - startNanos);
    ctx.write(head);
  }

  /** Writes a piece of a body begun with {@link #respondHead}. Event loop only. */
  public ChannelFuture writeBody(ByteBuf piece) {
    return ctx.writeAndFlush(new DefaultHttpContent(piece));
  }

  /** Ends a body begun with {@link #respondHead}; the connection moves on. Event loop only. */
  public void endBody() {
    ChannelFuture written = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    dispatcher.responseWritten(this, written, !keepAlive);
  }

  /**
   * Abandons a body begun with {@link #respondHead} that cannot be completed (a piece failed its
   * check): the connection is closed, so the client sees a body shorter than its Content-Length,
   * never wrong bytes. Event loop only.
   */
  public void abortBody() {
    ctx.close();
  }

  /** The request body's sink takes content again after it {@link BodySink#paused}. Event loop only. */
  public void resumeBody() {
    dispatcher.resumeBody(this);
  }

  /** Sends a JSON error. Event loop only. */
  public void error(HttpResponseStatus status, String message) {
    respond(server.errors().error(ctx.alloc(), status, message));
  }

  /** Sends a JSON error and closes the connection after it if a request body is still unread. */
  public void refuse(HttpResponseStatus status, String message) {
    if (hasBody()) {
      closeAfterResponse();
    }
    error(status, message);
  }

  /**
   * Sends 503 with {@code Retry-After: 1}, closing the connection after it if a request body is
   * still unread. Event loop only.
   */
  public void unavailable(String message) {
    if (hasBody()) {
      closeAfterResponse();
    }
    FullHttpResponse response = server.errors().error(ctx.alloc(), HttpResponseStatus.SERVICE_UNAVAILABLE, message);
    response.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
    respond(response);
  }

  /**
   * Runs {@code work} on the blocking pool, or answers 503 if the pool is full. Whatever escapes
   * {@code work} (a bug, an {@link Error}) is handed back to the event loop as a failure of this
   * exchange (500, then the connection closes), so that no request waits for an answer that will
   * never come and the in-flight count is always released.
   */
  public void offload(Runnable work) {
    try {
      server.blocking().execute(() -> {
        try {
          work.run();
        } catch (Throwable failure) {
          onEventLoop(() -> dispatcher.handlerFailed(this, failure), () -> { });
        }
      });
    } catch (RejectedExecutionException e) {
      unavailable("server is busy; retry later");
    }
  }

  /**
   * Runs {@code task} on this connection's event loop (now, if already on it). If the event loop
   * has shut down, runs {@code ifRejected} on the calling thread instead, so that buffers are
   * still released.
   */
  public void onEventLoop(Runnable task, Runnable ifRejected) {
    Runnable guarded = () -> {
      try {
        task.run();
      } catch (Throwable failure) {
        dispatcher.handlerFailed(this, failure);
      }
    };
    if (ctx.executor().inEventLoop()) {
      guarded.run();
      return;
    }
    try {
      ctx.executor().execute(guarded);
    } catch (RejectedExecutionException e) {
      log.debug("event loop gone, dropping the response to {} {}", request.method(), request.uri());
      ifRejected.run();
    }
  }
}
