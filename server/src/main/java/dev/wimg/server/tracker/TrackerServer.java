package dev.wimg.server.tracker;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.server.internal.http.Transport;
import dev.wimg.server.internal.slots.SlotService;
import dev.wimg.server.internal.tracker.ClusterMap;
import dev.wimg.server.internal.tracker.LargeUploadRedirect;
import dev.wimg.server.internal.tracker.Placement;
import dev.wimg.server.internal.tracker.TrackerHandler;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A tracker: knows the storage nodes from their heartbeats, places uploads and redirects reads.
 * Several run side by side as equal peers; each holds soft state only, except the slot table,
 * which the trackers keep together in Raft ({@code POST /cluster/slots}, docs/CLUSTER.md).
 */
public final class TrackerServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TrackerServer.class);
  /** Event-loop threads: a tracker's work is small and short. */
  private static final int IO_THREADS = 2;
  /** A connection with no request for this long is closed. */
  private static final int IDLE_SECONDS = 60;

  private final EventLoopGroup group;
  private final Channel channel;
  private final HttpClient http;
  private final SlotService slots;
  private final int port;
  private final String bind;

  private TrackerServer(EventLoopGroup group, Channel channel, HttpClient http, SlotService slots,
                        String bind) {
    this.group = group;
    this.channel = channel;
    this.http = http;
    this.slots = slots;
    this.bind = bind;
    this.port = ((InetSocketAddress) channel.localAddress()).getPort();
  }

  /**
   * Starts a tracker and returns once it listens.
   *
   * @param version the WIMG version, shown in {@code /status}
   * @throws IOException when it cannot listen, or the slot table's folder cannot be used
   */
  public static TrackerServer start(TrackerConfig config, String version) throws IOException {
    Transport transport = Transport.select();
    EventLoopGroup group = transport.newGroup(IO_THREADS);
    HttpClient http = TrackerHandler.newHttpClient();
    SlotService slots = null;
    try {
      ObjectMapper mapper = new ObjectMapper()
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
      ClusterMap cluster = new ClusterMap(config.downAfter().toNanos(), System::nanoTime);
      List<String> trackers = new ArrayList<>();
      // Its own URL is known only once it listens: filled in below, before the first request.
      trackers.add("");
      for (URI peer : config.peers()) {
        trackers.add(peer.toString());
      }
      TrackerHandler[] handler = new TrackerHandler[1];
      ServerBootstrap bootstrap = new ServerBootstrap()
          .group(group)
          .channel(transport.serverChannel())
          .option(ChannelOption.SO_REUSEADDR, true)
          .childHandler(new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
              ch.pipeline()
                  .addLast(new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS))
                  .addLast(new HttpServerCodec())
                  .addLast(new LargeUploadRedirect(config.maxUploadBytes(), handler[0]))
                  .addLast(new HttpServerExpectContinueHandler())
                  .addLast(new HttpObjectAggregator((int) config.maxUploadBytes()))
                  .addLast(handler[0]);
            }
          });
      Channel channel = bootstrap.bind(config.bind(), config.port()).syncUninterruptibly().channel();
      int port = ((InetSocketAddress) channel.localAddress()).getPort();
      trackers.set(0, "http://" + hostForUrl(config.bind()) + ":" + port);
      String raftAddress = config.raftAddress() != null ? config.raftAddress()
          : hostForUrl(config.bind()) + ":" + (config.port() == 0 ? freePort(config.bind())
              : port + 1);
      try {
        slots = SlotService.start(config.dataDir(), config.bind(), raftAddress,
            config.effectiveRaftPeers());
      } catch (IOException e) {
        channel.close().syncUninterruptibly();
        throw new java.io.UncheckedIOException(e);
      }
      handler[0] = new TrackerHandler(cluster, new Placement(config.groupPlacement(),
          config.memberPlacement()), mapper, config.clusterKey(), trackers, version, http, slots,
          new dev.wimg.server.internal.tracker.TaskBoard(config.downAfter().toNanos(), System::nanoTime),
          config.writeKey());
      LOG.info("WIMG {} tracker on {} ({} transport), peers {}, down after {} ms, placement {}/{}",
          version, trackers.getFirst(), transport.name(), config.peers(),
          config.downAfter().toMillis(), config.groupPlacement(), config.memberPlacement());
      return new TrackerServer(group, channel, http, slots, config.bind());
    } catch (RuntimeException e) {
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      http.close();
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw e;
    }
  }

  /**
   * A port free on {@code bind} now, for a tracker started on port 0 that was given no Raft
   * address: it is named in the Raft group before the Raft server binds it.
   */
  private static int freePort(String bind) {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(bind))) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot find a free port for Raft on " + bind, e);
    }
  }

  private static String hostForUrl(String bind) {
    return bind.equals("0.0.0.0") || bind.equals("::") ? "127.0.0.1"
        : bind.contains(":") ? "[" + bind + "]" : bind;
  }

  /** The port it listens on. */
  public int port() {
    return port;
  }

  /** Its base URL. */
  public URI url() {
    return URI.create("http://" + hostForUrl(bind) + ":" + port);
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    slots.close();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    http.close();
  }
}
