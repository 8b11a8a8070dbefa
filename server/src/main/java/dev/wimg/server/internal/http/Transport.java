package dev.wimg.server.internal.http;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The Netty transport: native epoll where it loads (Linux), else Java NIO. Netty's own switch
 * {@code -Dio.netty.transport.noNative=true} forces NIO.
 *
 * @param name          {@code epoll} or {@code nio}
 * @param ioHandlers    event-loop I/O handler factory
 * @param serverChannel the listening socket class
 * @param clientChannel the connecting socket class
 */
public record Transport(String name, IoHandlerFactory ioHandlers, Class<? extends ServerChannel> serverChannel,
                        Class<? extends io.netty.channel.Channel> clientChannel) {

  public static Transport select() {
    if (Epoll.isAvailable()) {
      return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
          io.netty.channel.epoll.EpollSocketChannel.class);
    }
    return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class,
        io.netty.channel.socket.nio.NioSocketChannel.class);
  }

  /** An event-loop group of {@code threads} threads named {@code wimg-io-N}. */
  public MultiThreadIoEventLoopGroup newGroup(int threads) {
    return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("wimg-io"), ioHandlers);
  }

  /** An event-loop group of {@code threads} daemon threads named {@code <name>-N}. */
  public MultiThreadIoEventLoopGroup newDaemonGroup(int threads, String name) {
    return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), ioHandlers);
  }
}
