package dev.wimg.server.internal.http;

import dev.wimg.server.internal.admin.ServerMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

/** Counts the bytes each connection reads and writes, at the socket end of the pipeline. */
@Sharable
public final class TrafficMeter extends ChannelDuplexHandler {

  private final ServerMetrics metrics;

  public TrafficMeter(ServerMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf buf) {
      metrics.received(buf.readableBytes());
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof ByteBuf buf) {
      metrics.sent(buf.readableBytes());
    } else if (msg instanceof ByteBufHolder holder) {
      metrics.sent(holder.content().readableBytes());
    }
    ctx.write(msg, promise);
  }
}
