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
 */
public record Transport(String name, IoHandlerFactory ioHandlers, Class<? extends ServerChannel> serverChannel) {

  public static Transport select() {
    if (Epoll.isAvailable()) {
      return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class);
    }
    return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class);
  }

  /** An event-loop group of {@code threads} threads named {@code wimg-io-N}. */
  public MultiThreadIoEventLoopGroup newGroup(int threads) {
    return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("wimg-io"), ioHandlers);
  }
}
