package dev.wimg.server.internal.http;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.ImmediateEventExecutor;

/**
 * The open connections of one server, so that shutdown can close them all, including one that
 * was accepted just before the listening socket closed and registers only afterwards.
 *
 * <p>Implementation notes: a connection is added first and checks the closing flag second, while
 * shutdown sets the flag first and closes the group second; whichever runs later sees the other,
 * so no connection escapes both.
 */
public final class OpenConnections {

  private final ChannelGroup channels = new DefaultChannelGroup("wimg-http", ImmediateEventExecutor.INSTANCE);
  private volatile boolean closing;

  /** Tracks {@code channel}; closes it at once if shutdown has begun. */
  public void add(Channel channel) {
    channels.add(channel);
    if (closing) {
      channel.close();
    }
  }

  /** Closes every connection, now and later, and waits for those open now. */
  public void closeAll() {
    closing = true;
    channels.close().awaitUninterruptibly();
  }

  /** Open connections. */
  public int size() {
    return channels.size();
  }
}
