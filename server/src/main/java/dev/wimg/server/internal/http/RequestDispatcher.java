package dev.wimg.server.internal.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-connection state machine: one request at a time, in order.
 *
 * <p>The channel runs with auto-read off. Decoded HTTP objects wait in a small queue until the
 * current state asks for the next one, and the socket is read only when that queue is empty. The
 * next request is taken only once the previous response is fully written: responses of pipelined
 * requests go out in request order, a client that does not read its responses stops being read
 * from, and at most one request per connection is in memory.
 *
 * <pre>
 *   AWAIT HEAD --head--> routed (handler may answer at once, or get a BodySink)
 *        ^                 | read body chunks (into the sink, or discarded)
 *        |                 v
 *        +--- response written and LastHttpContent seen
 * </pre>
 *
 * <p>A client may shut down its sending side once its requests are sent (TCP half-close; the
 * channel allows it, see {@link HttpPipeline}). Every request complete by then is still answered,
 * in order; the connection closes when the dispatcher next wants to read, which is at once if it
 * was waiting for a request or inside a body that can now never be complete.
 *
 * <p>A response that must close the connection while a body is still unread (413, 401, 503 before
 * the body) ends in a lingering close: output is shut down after the response and input is
 * drained for a short time, so that the client reads the answer instead of a connection reset.
 *
 * <p>Implementation notes: confined to the event loop. Netty's {@code FlowControlHandler} would do
 * the queueing, but in 4.2.18 it forgets a {@code read()} requested from inside
 * {@code channelRead} when the read cycle completes, which stalls a body that arrives in a later
 * packet than its head; hence the queue here. Handlers ask for more through
 * {@link #requestRead()}, which trampolines into one loop so that many pipelined requests in one
 * packet do not nest on the stack.
 */
public final class RequestDispatcher extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(RequestDispatcher.class);

  private final ServerContext server;
  private final Router router;

  private ChannelHandlerContext ctx;
  private ConnectionDeadline deadline;
  /** The request being received or answered, or null between requests. */
  private Exchange current;
  /** Where the current request's body goes, or null to discard it. */
  private BodySink sink;
  private boolean requestComplete;
  private boolean responseFlushed;
  private boolean closing;
  /** The client shut down its sending side: nothing arrives after what {@link #inbound} holds. */
  private boolean inputShutdown;
  /** Objects decoded from the socket and not yet handled: at most what one or two socket reads produced. */
  private final ArrayDeque<Object> inbound = new ArrayDeque<>();
  /** The current state is ready for the next object. */
  private boolean wantMessage;
  /** The body's sink asked for no more content for now ({@link BodySink#paused}). */
  private boolean bodyPaused;
  /** {@link #deliver()} is on the stack. */
  private boolean delivering;

  public RequestDispatcher(ServerContext server, Router router) {
    this.server = server;
    this.router = router;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.deadline = new ConnectionDeadline(ctx, server.config().idleTimeout().toNanos(),
        server.tuning().minBodyBytesPerSecond(), this::onDeadline);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    deadline.awaitHead();
    requestRead();
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closing) {
      ReferenceCountUtil.release(msg);
      return;
    }
    inbound.add(msg);
    deliver();
  }

  /** Handles one decoded HTTP object. */
  private void handle(Object msg) {
    if (msg instanceof HttpRequest head && head.decoderResult().isFailure()) {
      ReferenceCountUtil.release(msg);
      onMalformedHead(head);
      return;
    }
    if (msg instanceof HttpRequest head) {
      onHead(head);
    }
    if (msg instanceof HttpContent content) {
      onContent(content);
    } else if (!(msg instanceof HttpRequest)) {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onMalformedHead(HttpRequest head) {
    beginExchange(head, null);
    Throwable cause = head.decoderResult().cause();
    current.closeAfterResponse();
    requestComplete = true;
    String coding = unsupportedTransferCoding(head);
    if (coding != null) {
      current.error(HttpResponseStatus.NOT_IMPLEMENTED, "transfer coding " + coding + " is not supported");
    } else if (cause instanceof TooLongHttpLineException) {
      current.error(HttpResponseStatus.REQUEST_URI_TOO_LONG, "request line is too long");
    } else if (cause instanceof TooLongHttpHeaderException) {
      current.error(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request headers are too large");
    } else if (cause instanceof TooLongFrameException) {
      current.error(HttpResponseStatus.BAD_REQUEST, "request is too large");
    } else {
      current.error(HttpResponseStatus.BAD_REQUEST, "malformed HTTP request");
    }
  }

  private void onHead(HttpRequest head) {
    RequestTarget target;
    try {
      target = RequestTarget.parse(head.uri());
    } catch (IllegalArgumentException e) {
      target = null;
    }
    beginExchange(head, target);
    bodyPaused = false;
    deadline.awaitBody();
    String coding = unsupportedTransferCoding(head);
    if (coding != null) {
      current.closeAfterResponse();
      current.error(HttpResponseStatus.NOT_IMPLEMENTED, "transfer coding " + coding + " is not supported");
    } else if (head.protocolVersion().majorVersion() != 1) {
      current.closeAfterResponse();
      current.error(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED,
          "HTTP version " + head.protocolVersion().text() + " is not supported; this server speaks HTTP/1.1");
    } else if (!hasValidHost(head)) {
      current.refuse(HttpResponseStatus.BAD_REQUEST, "an HTTP/1.1 request must have exactly one Host header");
    } else if (head.headers().getAll(HttpHeaderNames.AUTHORIZATION).size() > 1) {
      // which of two keys counts would be a guess: refuse rather than pick one
      current.refuse(HttpResponseStatus.BAD_REQUEST, "a request must have at most one Authorization header");
    } else if (target == null) {
      current.refuse(HttpResponseStatus.BAD_REQUEST, "request target must be a path starting with /");
    } else {
      sink = router.route(current);
    }
    if (!closing) {
      requestRead();
    }
  }

  /**
   * The first transfer coding of {@code head} other than {@code chunked}, or null. The server
   * decodes only chunked (RFC 9112 section 6.1: 501 for a coding it does not understand); the
   * connection closes after the answer since the body's framing is then unknown.
   */
  static String unsupportedTransferCoding(HttpRequest head) {
    for (String field : head.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING)) {
      for (String coding : field.split(",")) {
        String name = coding.strip();
        int parameters = name.indexOf(';');
        if (parameters >= 0) {
          name = name.substring(0, parameters).strip();
        }
        if (!name.isEmpty() && !name.equalsIgnoreCase("chunked")) {
          return name;
        }
      }
    }
    return null;
  }

  /**
   * RFC 9112 section 3.2: an HTTP/1.1 request has exactly one Host field; no request has two.
   */
  private static boolean hasValidHost(HttpRequest head) {
    int hosts = head.headers().getAll(HttpHeaderNames.HOST).size();
    return hosts == 1 || hosts == 0 && head.protocolVersion() == HttpVersion.HTTP_1_0;
  }

  private void beginExchange(HttpRequest head, RequestTarget target) {
    if (current != null) {
      throw new IllegalStateException("a request head arrived while another request is open");
    }
    current = new Exchange(ctx, this, server, head, target);
    requestComplete = false;
    responseFlushed = false;
    server.inFlight().begin();
  }

  private void onContent(HttpContent content) {
    if (current == null) {
      content.release();
      return;
    }
    if (content.decoderResult().isFailure()) {
      content.release();
      abortSink();
      if (current.responded()) {
        ctx.close();
      } else {
        current.closeAfterResponse();
        current.error(HttpResponseStatus.BAD_REQUEST, "malformed request body");
      }
      return;
    }
    boolean last = content instanceof LastHttpContent;
    deadline.progress(content.content().readableBytes());
    if (sink != null) {
      if (!sink.add(content)) {
        sink = null;
        return;
      }
    } else {
      content.release();
    }
    if (last) {
      requestComplete = true;
      deadline.pause();
      if (sink != null) {
        BodySink body = sink;
        sink = null;
        body.finish();
      }
      maybeNextRequest();
    } else if (sink != null && sink.paused()) {
      // the server's turn: no read, and no deadline for the client, until the sink resumes
      bodyPaused = true;
      deadline.pause();
    } else if (!closing) {
      requestRead();
    }
  }

  /** Called by {@link Exchange#resumeBody}: the sink takes content again. */
  void resumeBody(Exchange exchange) {
    if (exchange != current || !bodyPaused || closing) {
      return;
    }
    bodyPaused = false;
    deadline.resumeBody();
    requestRead();
  }

  /** Called by {@link Exchange#respond} once the response is handed to the channel. */
  void responseWritten(Exchange exchange, ChannelFuture written, boolean close) {
    if (exchange != current) {
      return;
    }
    if (close) {
      closing = true;
      abortSink();
      boolean bodyUnread = !requestComplete && exchange.hasBody();
      written.addListener(f -> lingeringClose(bodyUnread));
      return;
    }
    written.addListener(f -> {
      if (!f.isSuccess()) {
        ctx.close();
        return;
      }
      if (exchange == current) {
        responseFlushed = true;
        maybeNextRequest();
      }
    });
  }

  private void maybeNextRequest() {
    if (current == null || !requestComplete || !responseFlushed || closing) {
      return;
    }
    Exchange done = current;
    current = null;
    done.ended();
    server.inFlight().end();
    deadline.awaitHead();
    requestRead();
  }

  /**
   * Closes after the response. If the client may still be sending a body, shuts down output and
   * drains input for {@link ServerTuning#lingerOnClose()} first.
   */
  private void lingeringClose(boolean bodyUnread) {
    endExchange();
    deadline.stop();
    Channel ch = ctx.channel();
    if (!ch.isActive()) {
      return;
    }
    if (!bodyUnread || !(ch instanceof DuplexChannel duplex)) {
      releaseInbound();
      ch.close();
      return;
    }
    releaseInbound();
    duplex.shutdownOutput().addListener(f -> {
      ch.config().setAutoRead(true);
      ctx.executor().schedule(() -> ch.close(), server.tuning().lingerOnClose().toNanos(),
          TimeUnit.NANOSECONDS);
    });
  }

  /**
   * A handler threw (anything, {@link Error}s included): a bug or a fault, not a client error.
   * Logged once with its cause; the client gets a plain 500 if nothing was sent yet, and the
   * connection closes either way, which ends the exchange and its in-flight count.
   */
  void handlerFailed(Exchange exchange, Throwable failure) {
    log.error("{}: handling {} failed", ctx.channel(),
        exchange == null ? "a request" : exchange.request().method() + " " + exchange.request().uri(), failure);
    if (exchange == null || exchange != current) {
      ctx.close();
      return;
    }
    abortSink();
    if (exchange.responded()) {
      ctx.close();
      return;
    }
    exchange.closeAfterResponse();
    try {
      exchange.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal server error");
    } catch (RuntimeException again) {
      ctx.close();
    }
  }

  private void onDeadline(ConnectionDeadline.Phase phase) {
    if (phase == ConnectionDeadline.Phase.BODY && current != null && !current.responded()) {
      log.debug("{}: request body too slow, answering 408", ctx.channel());
      abortSink();
      current.closeAfterResponse();
      current.error(HttpResponseStatus.REQUEST_TIMEOUT, "request body not received in time");
    } else {
      log.debug("{}: idle, closing", ctx.channel());
      ctx.close();
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      // The decoder has passed on whatever the end of input completed before this event.
      inputShutdown = true;
      if (closing) {
        ctx.close(); // a lingering close waited for exactly this
      } else if (wantMessage) {
        deliver();
      }
      return;
    }
    if (evt instanceof ChannelInputShutdownReadComplete) {
      return;
    }
    if (evt instanceof IdleStateEvent idle && idle.state() == IdleState.WRITER_IDLE) {
      // Netty raises the first writer-idle event whatever was written meanwhile: only the later
      // ones mean no progress for a whole period (see HttpPipeline).
      if (!idle.isFirst() && current != null && current.responded() && !responseFlushed) {
        log.debug("{}: client stopped reading its response, closing", ctx.channel());
        ctx.close();
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    deadline.stop();
    abortSink();
    endExchange();
    releaseInbound();
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof IOException) {
      log.debug("{}: connection error: {}", ctx.channel(), cause.toString());
    } else {
      log.error("{}: unexpected error, closing the connection", ctx.channel(), cause);
    }
    ctx.close();
  }

  private void endExchange() {
    if (current != null) {
      Exchange done = current;
      current = null;
      done.ended();
      server.inFlight().end();
    }
  }

  private void abortSink() {
    if (sink != null) {
      BodySink body = sink;
      sink = null;
      body.abort();
    }
  }

  /** Asks for the next HTTP object of this connection. */
  private void requestRead() {
    wantMessage = true;
    deliver();
  }

  /**
   * Hands queued objects to {@link #handle} while the current state wants one, and reads from
   * the socket when the queue runs dry. Re-entrant calls (a handler asking for the next object)
   * only set {@link #wantMessage}; the outermost call loops, so the stack stays flat.
   */
  private void deliver() {
    if (delivering) {
      return;
    }
    delivering = true;
    try {
      while (wantMessage && !closing && ctx.channel().isActive()) {
        Object msg = inbound.poll();
        if (msg == null && inputShutdown) {
          endOfInput();
          break;
        }
        if (msg == null) {
          ctx.read();
          if (inbound.isEmpty()) {
            break;
          }
          continue;
        }
        wantMessage = false;
        try {
          handle(msg);
        } catch (Throwable failure) {
          handlerFailed(current, failure);
        }
      }
    } finally {
      delivering = false;
    }
  }

  /**
   * The dispatcher wants more from a client that will send nothing more: between requests, or
   * inside a body that cannot be completed any more. Closes once what was written is flushed.
   */
  private void endOfInput() {
    closing = true;
    deadline.stop();
    abortSink();
    ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
  }

  private void releaseInbound() {
    for (Object msg; (msg = inbound.poll()) != null; ) {
      ReferenceCountUtil.release(msg);
    }
  }
}
