package dev.wimg.server.internal.http;

import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * The handlers of every accepted connection, socket end first:
 *
 * <pre>
 *   traffic   TrafficMeter          bytes in and out
 *   idle      IdleStateHandler      writer idle (observing output progress): a client that stops
 *                                   reading its response is cut off within the idle timeout
 *   http      HttpServerCodec       HTTP/1.1 with the limits below
 *   dispatch  RequestDispatcher     one request at a time: ordering, back-pressure, routing,
 *                                   deadlines, keep-alive
 * </pre>
 *
 * <p>Half-closure is allowed: a client that shuts down its sending side after its last request
 * (TCP FIN) still gets the answers to every complete request, after which the dispatcher closes
 * the connection. Without it Netty closes the channel as soon as it reads the end of input, which
 * loses the answer to a request being served (an upload is stored, its fid never reaches the
 * client).
 *
 * <p>Channels start with auto-read off; the dispatcher reads when it is ready for more. That is
 * the back-pressure for pipelining: however many requests a client sends at once, the server
 * holds at most what one socket read of {@link #MAX_READ_BYTES} decodes to, and reads on once
 * those are answered.
 */
public final class HttpPipeline extends ChannelInitializer<SocketChannel> {

  /** Longest request line (method, target, version), bytes: long file names fit. */
  public static final int MAX_INITIAL_LINE_BYTES = 8 << 10;
  /** Most bytes of all request headers together. */
  public static final int MAX_HEADER_BYTES = 16 << 10;
  /**
   * Largest piece of body handed on at once, bytes. Pieces are slices of the socket's read
   * buffers, so this bounds nothing in memory; larger means fewer pieces per upload.
   */
  public static final int MAX_CHUNK_BYTES = 1 << 20;
  /** Most bytes one socket read hands to the decoder (the receive buffer's upper bound). */
  public static final int MAX_READ_BYTES = 64 << 10;
  /** First receive buffer size, bytes; Netty adapts it between 64 and {@link #MAX_READ_BYTES}. */
  private static final int INITIAL_READ_BYTES = 2 << 10;
  /** Smallest receive buffer, bytes. */
  private static final int MIN_READ_BYTES = 64;
  /** Bytes of the shortest request the decoder accepts: {@code "A / HTTP/1.1\n\n"}. */
  private static final int MIN_REQUEST_BYTES = 14;
  /**
   * Requests the codec may hold decoded but unanswered. Not a limit on clients: the dispatcher
   * reads the socket only when it has handled everything decoded before, so at most the request
   * being answered plus what one read of {@link #MAX_READ_BYTES} (and the partial request left
   * over from the previous read) decodes to are ever unanswered. The codec fails the connection
   * past its depth, so the depth is that bound rather than Netty's default of 128.
   */
  static final int MAX_UNANSWERED_REQUESTS = MAX_READ_BYTES / MIN_REQUEST_BYTES + 2;

  private final ServerContext server;
  private final OpenConnections connections;
  private final TrafficMeter traffic;
  private final Router router;

  public HttpPipeline(ServerContext server, OpenConnections connections) {
    this.server = server;
    this.connections = connections;
    this.traffic = new TrafficMeter(server.metrics());
    this.router = new Router(server);
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    connections.add(ch);
    HttpDecoderConfig limits = new HttpDecoderConfig()
        .setMaxInitialLineLength(MAX_INITIAL_LINE_BYTES)
        .setMaxHeaderSize(MAX_HEADER_BYTES)
        .setMaxChunkSize(MAX_CHUNK_BYTES);
    ch.config().setAllowHalfClosure(true);
    ch.config().setRecvByteBufAllocator(
        new AdaptiveRecvByteBufAllocator(MIN_READ_BYTES, INITIAL_READ_BYTES, MAX_READ_BYTES));
    long idleNanos = server.config().idleTimeout().toNanos();
    ChannelPipeline p = ch.pipeline();
    p.addLast("traffic", traffic);
    // Half the idle timeout: the first writer-idle event only records the output's progress
    // (Netty never counts progress for it), the dispatcher acts on later ones, which fire only
    // when nothing was written for a whole period. So a client that stops reading is cut off
    // 1 to 2 halves after it stopped, and one that reads slowly but steadily never is.
    p.addLast("idle", new IdleStateHandler(true, 0, idleNanos / 2, 0, TimeUnit.NANOSECONDS));
    p.addLast("http", new HttpServerCodec(limits, MAX_UNANSWERED_REQUESTS));
    p.addLast("dispatch", new RequestDispatcher(server, router));
  }
}
