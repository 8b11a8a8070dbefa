package dev.wimg.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.imaging.ImageEngine;
import dev.wimg.imaging.ImageEngines;
import dev.wimg.server.internal.admin.ServerMetrics;
import dev.wimg.server.internal.headers.HttpDateCache;
import dev.wimg.server.internal.http.ErrorResponses;
import dev.wimg.server.internal.http.HttpPipeline;
import dev.wimg.server.internal.http.InFlightRequests;
import dev.wimg.server.internal.http.JsonBodies;
import dev.wimg.server.internal.http.Membership;
import dev.wimg.server.internal.large.ChunkStore;
import dev.wimg.server.internal.replication.Replication;
import dev.wimg.server.internal.upload.TusUploads;
import dev.wimg.server.internal.http.OpenConnections;
import dev.wimg.server.internal.http.ServerContext;
import dev.wimg.server.internal.files.PieceUploads;
import dev.wimg.server.internal.http.ServerTuning;
import dev.wimg.server.internal.http.Transport;
import dev.wimg.server.internal.http.WriteAuth;
import dev.wimg.server.internal.transform.TransformService;
import dev.wimg.server.internal.upload.UploadBudget;
import dev.wimg.storage.CorruptNeedleException;
import dev.wimg.storage.Store;
import dev.wimg.storage.VerifyReport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The all-in-one WIMG server: one storage node (and, later, a tracker) behind one HTTP port.
 * Started by {@code wimg server}; tests start it on port 0. The HTTP API is described in
 * {@code docs/API.md}.
 *
 * <p>Threads: {@code wimg-io-N} event loops (one per core) do all network work and serve reads of
 * memory-resident needles; {@code wimg-read-N} is a bounded pool for reads that may wait on the
 * disk and for status snapshots; {@code wimg-transform-N} (one per core) computes derived pictures;
 * the stores (originals, and derived pictures in {@code <data>/derived}) run their own writers.
 */
public final class WimgServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(WimgServer.class);

  /** Backlog of connections not yet accepted. */
  private static final int ACCEPT_BACKLOG = 1024;
  /** How long close() waits for the event loops to finish, seconds. */
  private static final long EVENT_LOOP_SHUTDOWN_SECONDS = 5;

  private final ServerContext context;
  private final EventLoopGroup group;
  private final ThreadPoolExecutor blocking;
  private final OpenConnections connections;
  private final Channel listener;
  private final InetSocketAddress address;
  private final CountDownLatch terminated = new CountDownLatch(1);
  private final AtomicBoolean closed = new AtomicBoolean();

  private WimgServer(ServerContext context, EventLoopGroup group, ThreadPoolExecutor blocking,
                     OpenConnections connections, Channel listener) {
    this.context = context;
    this.group = group;
    this.blocking = blocking;
    this.connections = connections;
    this.listener = listener;
    this.address = (InetSocketAddress) listener.localAddress();
  }

  /**
   * Opens the store, binds the port and starts serving. Returns once the port accepts connections.
   *
   * @throws IllegalArgumentException if the configuration is unsafe (e.g. a public bind address
   *     without a write key)
   * @throws CorruptDataException if the store found bytes on disk that fail their checks
   * @throws IOException if the store cannot be opened or the port cannot be bound
   */
  public static WimgServer start(ServerConfig config) throws IOException {
    try {
      return start(config, ServerTuning.defaults());
    } catch (CorruptNeedleException e) {
      throw new CorruptDataException(e.getMessage(), e);
    }
  }

  /**
   * Checks every stored file of the data folder {@code dataDir} (magic, sizes, CRC32C, index)
   * without changing anything; meant for a folder no server is using.
   *
   * @throws CorruptDataException if a check could not go on past damaged bytes
   * @throws IOException if the folder cannot be read
   */
  public static VerifyResult verify(Path dataDir) throws IOException {
    VerifyReport report;
    try {
      report = Store.verify(dataDir);
    } catch (CorruptNeedleException e) {
      throw new CorruptDataException(e.getMessage(), e);
    }
    return new VerifyResult(report.volumes(), report.needlesChecked(), report.liveNeedles(),
        report.deletedNeedles(), report.problems(), report.changed());
  }

  /** As {@link #start(ServerConfig)}, with the HTTP layer's limits changed (tests). */
  static WimgServer start(ServerConfig config, ServerTuning tuning) throws IOException {
    return start(config, tuning, null);
  }

  /**
   * As {@link #start(ServerConfig, ServerTuning)} with a given picture engine (tests); null
   * detects libvips and falls back to the pure-Java engine.
   */
  static WimgServer start(ServerConfig config, ServerTuning tuning, ImageEngine engine) throws IOException {
    return start(config, tuning, engine, Membership.standalone(), null);
  }

  /**
   * As {@link #start(ServerConfig, ServerTuning, ImageEngine)}, uploads gated by {@code
   * membership}, writes and deletes replicated to the group by {@code replication} (or null).
   */
  static WimgServer start(ServerConfig config, ServerTuning tuning, ImageEngine engine,
                          Membership membership, Replication replication) throws IOException {
    return start(config, tuning, engine, membership, replication, null);
  }

  /**
   * As {@link #start(ServerConfig, ServerTuning, ImageEngine, Membership, Replication)}, large
   * files' chunks placed by what {@code chunkPlacement} makes of the node's own chunk store (null:
   * they stay in it).
   */
  static WimgServer start(ServerConfig config, ServerTuning tuning, ImageEngine engine,
                          Membership membership, Replication replication,
                          java.util.function.UnaryOperator<ChunkStore> chunkPlacement) throws IOException {
    return start(config, tuning, engine, membership, replication, chunkPlacement, null, null);
  }

  /**
   * As {@link #start(ServerConfig, ServerTuning, ImageEngine, Membership, Replication,
   * java.util.function.UnaryOperator)}, the handlers reading through what {@code readsOver} makes
   * of the node's store (null: the store itself; it closes with the server), and what they send
   * for distribution pieces held to {@code pieces} (null: no limits).
   */
  static WimgServer start(ServerConfig config, ServerTuning tuning, ImageEngine engine,
                          Membership membership, Replication replication,
                          java.util.function.UnaryOperator<ChunkStore> chunkPlacement,
                          java.util.function.UnaryOperator<Store> readsOver, NodeConfig.Distribution pieces)
      throws IOException {
    InetAddress address = checkedBindAddress(config);
    ImageEngine images = engine != null ? engine : ImageEngines.detect(config.imaging().limits());
    Store opened = replication == null ? Store.open(config.store())
        : replication.attach(Store.open(config.store(), replication));
    Store store = readsOver == null ? opened : readsOver.apply(opened);
    TransformService transforms;
    try {
      transforms = TransformService.open(config.imaging(), store, images, tuning.transformThreads());
    } catch (IOException | RuntimeException e) {
      try {
        store.close();
      } catch (IOException closeFailure) {
        e.addSuppressed(closeFailure);
      }
      throw e;
    }
    Transport transport = Transport.select();
    EventLoopGroup group = null;
    ThreadPoolExecutor blocking = null;
    ServerMetrics metrics = null;
    try {
      group = transport.newGroup(tuning.ioThreads());
      blocking = new ThreadPoolExecutor(tuning.readThreads(), tuning.readThreads(), 60, TimeUnit.SECONDS,
          new ArrayBlockingQueue<>(tuning.readQueue()), new DefaultThreadFactory("wimg-read", true));
      blocking.allowCoreThreadTimeOut(true);
      metrics = new ServerMetrics();
      JsonBodies json = new JsonBodies(new ObjectMapper());
      UploadBudget uploads = new UploadBudget(tuning.uploadBudgetBytes());
      ChunkStore chunks = chunkPlacement == null ? ChunkStore.local(store)
          : chunkPlacement.apply(ChunkStore.local(store));
      ServerContext context = new ServerContext(store, config, tuning, metrics, json, new ErrorResponses(json),
          uploads, blocking, WriteAuth.forKey(config.writeKey()), new HttpDateCache(), new InFlightRequests(),
          readVersion(), transport.name(), System.nanoTime(), transforms, membership, replication,
          TusUploads.open(config.store().dataDir().resolve("uploads"), chunks, config.uploadExpiry()), chunks,
          pieces == null ? new PieceUploads(0, 0, group) : new PieceUploads(pieces.uploads(), pieces.sendRate(), group));
      OpenConnections connections = new OpenConnections();
      ThreadPoolExecutor pool = blocking;
      if (replication != null) {
        // derived pictures are each member's own: a delete copied from a peer drops them here too
        replication.onCopiedDelete(fid -> transforms.dropDerivatives(fid, pool).whenComplete((done, e) -> {
          if (e != null) {
            log.warn("dropping the derived pictures of {}, deleted on a peer, failed", fid, e);
          }
        }));
      }
      metrics.gauge("wimg.http.connections", null, "Open HTTP connections", connections, OpenConnections::size);
      metrics.gauge("wimg.distribution.piece.uploads", null, "Distribution pieces being sent", context.pieceUploads(),
          PieceUploads::sending);
      metrics.gauge("wimg.upload.buffered", "bytes", "Upload bytes held in memory", uploads,
          UploadBudget::reservedBytes);
      metrics.gauge("wimg.read.queue", null, "Reads waiting for a blocking-pool thread", pool,
          p -> p.getQueue().size());
      metrics.gauge("wimg.transform.queue", null, "Transforms waiting for a worker", transforms,
          t -> t.status().queued());
      metrics.gauge("wimg.derived.used", "bytes", "Bytes of derived pictures on disk", transforms,
          t -> t.status().derived().bytes());
      metrics.gauge("wimg.derived.pictures", null, "Derived pictures on disk", transforms,
          t -> t.status().derived().count());
      metrics.gauge("wimg.imaging.native.memory", "bytes", "Bytes of pixel buffers libvips holds",
          transforms, t -> t.engine().nativeMemory().bytes());
      metrics.gauge("wimg.imaging.native.memory.high.water", "bytes",
          "Most bytes of pixel buffers libvips has held at once", transforms,
          t -> t.engine().nativeMemory().highWaterBytes());
      metrics.gauge("wimg.transform.memory.reserved", "bytes",
          "Working memory the transforms in flight have reserved, estimated from their sources",
          transforms, t -> t.engine().nativeMemory().reservedBytes());

      ServerBootstrap bootstrap = new ServerBootstrap()
          .group(group)
          .channel(transport.serverChannel())
          .option(ChannelOption.SO_BACKLOG, ACCEPT_BACKLOG)
          .option(ChannelOption.SO_REUSEADDR, true)
          .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
          .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
          .childOption(ChannelOption.AUTO_READ, false)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childHandler(new HttpPipeline(context, connections));
      ChannelFuture bound = bootstrap.bind(new InetSocketAddress(address, config.port())).awaitUninterruptibly();
      if (!bound.isSuccess()) {
        Throwable cause = bound.cause();
        throw new IOException("cannot listen on " + config.bind() + ":" + config.port() + ": " + cause.getMessage(),
            cause);
      }
      WimgServer server = new WimgServer(context, group, blocking, connections, bound.channel());
      // The listening socket closing by itself (not through close()) stops the server; close()
      // blocks, so it must not run on the event loop that reports the closure.
      bound.channel().closeFuture().addListener(f -> {
        if (!server.closed.get()) {
          Thread.ofPlatform().name("wimg-shutdown").start(server::close);
        }
      });
      log.info("WIMG {} serving http://{}:{} ({} transport), data in {}, fsync {}, imaging {}", context.version(),
          config.bind(), server.port(), transport.name(), config.store().dataDir(), config.store().fsyncPolicy(),
          images.name());
      return server;
    } catch (IOException | RuntimeException | Error e) {
      if (group != null) {
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS).awaitUninterruptibly();
      }
      if (blocking != null) {
        blocking.shutdownNow();
      }
      if (metrics != null) {
        metrics.close();
      }
      try {
        transforms.close();
      } catch (IOException closeFailure) {
        e.addSuppressed(closeFailure);
      }
      try {
        store.close();
      } catch (IOException closeFailure) {
        e.addSuppressed(closeFailure);
      }
      throw e;
    }
  }

  /**
   * The address to bind, refusing a non-loopback one without a write key: anyone who can reach
   * it could otherwise upload and delete.
   */
  private static InetAddress checkedBindAddress(ServerConfig config) {
    InetAddress address;
    try {
      address = InetAddress.getByName(config.bind());
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("bind address " + config.bind() + " does not resolve", e);
    }
    if (!address.isLoopbackAddress() && config.writeKey() == null) {
      throw new IllegalArgumentException("refusing to listen on " + config.bind()
          + " without a write key: it is not a loopback address, so anyone who can reach it could upload"
          + " and delete files. Configure a write key (clients then send Authorization: Bearer <key>)"
          + " or bind to 127.0.0.1.");
    }
    return address;
  }

  private static String readVersion() {
    try (InputStream in = WimgServer.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties properties = new Properties();
      properties.load(in);
      return properties.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** The bound TCP port (the real one when the configuration asked for 0). */
  public int port() {
    return address.getPort();
  }

  /** The bound address and port. */
  public InetSocketAddress address() {
    return address;
  }

  /** The Netty transport in use: {@code epoll} or {@code nio}. */
  public String transport() {
    return context.transport();
  }

  /** Requests whose head arrived and whose response is not yet written (nor their connection closed). */
  long requestsInFlight() {
    return context.inFlight().count();
  }

  /** What its handlers share (the storage node's heartbeats read its figures). */
  ServerContext context() {
    return context;
  }

  /** Blocks until {@link #close()} is called or the server stops. */
  public void awaitTermination() throws InterruptedException {
    terminated.await();
  }

  /**
   * Stops accepting, waits up to {@link ServerTuning#shutdownGrace()} for requests in flight,
   * closes every connection, then closes the store, which completes the writes it has queued.
   * Idempotent; returns once everything is closed.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      try {
        terminated.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return;
    }
    try {
      listener.close().awaitUninterruptibly();
      try {
        if (!context.inFlight().awaitIdle(context.tuning().shutdownGrace())) {
          log.info("closing with {} request(s) still in flight", context.inFlight().count());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      connections.closeAll();
      context.pieceUploads().close();
      group.shutdownGracefully(0, EVENT_LOOP_SHUTDOWN_SECONDS, TimeUnit.SECONDS).awaitUninterruptibly();
      blocking.shutdown();
      try {
        if (!blocking.awaitTermination(EVENT_LOOP_SHUTDOWN_SECONDS, TimeUnit.SECONDS)) {
          blocking.shutdownNow();
        }
      } catch (InterruptedException e) {
        blocking.shutdownNow();
        Thread.currentThread().interrupt();
      }
      context.resumable().close();
      try {
        context.transforms().close();
      } catch (IOException e) {
        log.error("closing the derived pictures failed", e);
      }
      try {
        context.store().close();
      } catch (IOException e) {
        log.error("closing the store failed", e);
      }
      context.metrics().close();
      log.info("WIMG server on port {} stopped", address.getPort());
    } finally {
      terminated.countDown();
    }
  }
}
