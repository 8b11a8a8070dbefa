package dev.wimg.server.internal.replication;

import dev.wimg.protocol.ClusterKey;
import dev.wimg.server.internal.http.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One keep-alive HTTP/1.1 connection from this node to a peer, for the ranges a {@link
 * PeerSender} posts and the pages {@link CatchUp} reads: one request at a time, the body written from the ranges' arrays as they are
 * (Netty gathers them into one write), reconnected after any failure.
 *
 * <p>Implementation note: the JDK's {@code HttpClient} did this first. Measured with {@code
 * bench/replicated-upload.sh} (2026-12-05, 2 cores), its reactive body pipeline and its
 * selector and worker threads took about 30 % of the writing member's CPU for some 80 requests a
 * second of about 700 KB each: it feeds a body through the flow machinery in small slices.
 *
 * <p>Used by its sender's thread only.
 */
final class PeerChannel implements AutoCloseable {


  /** A peer's answer: its status and body. */
  record Answer(int status, byte[] body) {}

  /**
   * A peer's answer with its body as it came off the socket (pooled buffers): the caller releases
   * it.
   */
  record BufferAnswer(int status, io.netty.buffer.ByteBuf body) {}

  private final EventLoopGroup group;
  private final Transport transport;
  private final URI url;
  private final String clusterKey;
  private final int maxAnswerBytes;
  private Channel channel;
  /** The answer the request in flight waits for; set before it is written. */
  private volatile CompletableFuture<Object> pending;
  /** Whether the request in flight wants its body as a buffer ({@link BufferAnswer}). */
  private volatile boolean wantsBuffer;

  /**
   * @param maxAnswerBytes the largest answer body read (a larger one fails the request)
   */
  PeerChannel(EventLoopGroup group, Transport transport, URI url, String clusterKey, int maxAnswerBytes) {
    this.group = group;
    this.transport = transport;
    this.url = url;
    this.clusterKey = clusterKey;
    this.maxAnswerBytes = maxAnswerBytes;
  }

  /**
   * GETs {@code path} and waits for the answer, as {@link #post}; its body stays in the buffers
   * it was read into, for the caller to release.
   */
  BufferAnswer get(String path, long timeoutMillis) throws IOException, InterruptedException {
    return (BufferAnswer) exchange(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET,
        path, Unpooled.EMPTY_BUFFER), true, timeoutMillis);
  }

  /**
   * Posts {@code body} (the arrays one after the other) to {@code path} and waits for the answer.
   * The connection is kept for the next request.
   *
   * @throws IOException when the peer cannot be reached, closes the connection, or does not answer
   *     within {@code timeoutMillis}; the connection is then closed
   */
  Answer post(String path, List<byte[]> body, long timeoutMillis) throws IOException, InterruptedException {
    FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path,
        Unpooled.wrappedBuffer(body.toArray(byte[][]::new)));
    request.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
    return (Answer) exchange(request, false, timeoutMillis);
  }

  private Object exchange(FullHttpRequest request, boolean buffer, long timeoutMillis)
      throws IOException, InterruptedException {
    Channel ch;
    try {
      ch = connected(timeoutMillis);
    } catch (IOException | InterruptedException e) {
      request.release();
      throw e;
    }
    CompletableFuture<Object> answer = new CompletableFuture<>();
    wantsBuffer = buffer;
    pending = answer;
    request.headers().set(HttpHeaderNames.HOST, url.getAuthority());
    request.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, request.content().readableBytes());
    if (clusterKey != null) {
      request.headers().set(ClusterKey.HEADER, clusterKey);
    }
    ch.writeAndFlush(request).addListener(written -> {
      if (!written.isSuccess()) {
        answer.completeExceptionally(written.cause());
      }
    });
    try {
      return answer.get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException | InterruptedException e) {
      // an answer that arrives after this gives up is released
      answer.thenAccept(PeerChannel::release);
      dropConnection();
      if (e instanceof InterruptedException interrupted) {
        throw interrupted;
      }
      throw new IOException("no answer within " + timeoutMillis + " ms");
    } catch (ExecutionException e) {
      dropConnection();
      Throwable cause = e.getCause();
      throw cause instanceof IOException io ? io : new IOException(cause.toString(), cause);
    }
  }

  private static void release(Object answer) {
    if (answer instanceof BufferAnswer b) {
      b.body().release();
    }
  }

  private Channel connected(long timeoutMillis) throws IOException, InterruptedException {
    if (channel != null && channel.isActive()) {
      return channel;
    }
    dropConnection();
    int port = url.getPort() > 0 ? url.getPort() : 80;
    ChannelFuture connect = new Bootstrap().group(group).channel(transport.clientChannel())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(timeoutMillis, 5_000))
        .handler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(maxAnswerBytes),
                new AnswerHandler());
          }
        })
        .connect(url.getHost(), port);
    if (!connect.await(timeoutMillis) || !connect.isSuccess()) {
      connect.channel().close();
      Throwable cause = connect.cause();
      throw new IOException("cannot connect to " + url + (cause != null ? ": " + cause : ""), cause);
    }
    channel = connect.channel();
    return channel;
  }

  private void dropConnection() {
    if (channel != null) {
      channel.close();
      channel = null;
    }
  }

  /** Completes the pending answer; fails it when the connection breaks first. */
  private final class AnswerHandler extends SimpleChannelInboundHandler<FullHttpResponse> {

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
      CompletableFuture<Object> answer = pending;
      if (answer == null) {
        return;
      }
      Object got = wantsBuffer
          ? new BufferAnswer(response.status().code(), response.content().retain())
          : new Answer(response.status().code(), ByteBufUtil.getBytes(response.content()));
      if (!answer.complete(got)) {
        release(got);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      CompletableFuture<Object> answer = pending;
      if (answer != null) {
        answer.completeExceptionally(new IOException("the connection to " + url + " closed"));
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      CompletableFuture<Object> answer = pending;
      if (answer != null) {
        answer.completeExceptionally(cause);
      }
      ctx.close();
    }
  }

  @Override
  public void close() {
    dropConnection();
  }
}
