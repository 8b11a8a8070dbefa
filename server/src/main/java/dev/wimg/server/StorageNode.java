package dev.wimg.server;

import dev.wimg.server.internal.cluster.Heartbeats;
import dev.wimg.server.internal.cluster.NodeIdentity;
import dev.wimg.server.internal.cluster.SlotClaimer;
import dev.wimg.server.internal.cluster.SpreadChunks;
import dev.wimg.server.internal.distribution.LanDiscovery;
import dev.wimg.server.internal.distribution.NodeTasks;
import dev.wimg.server.internal.distribution.PinnedChunks;
import dev.wimg.server.internal.distribution.PinnedCopies;
import dev.wimg.server.internal.distribution.PinnedReads;
import dev.wimg.server.internal.http.Membership;
import dev.wimg.server.internal.http.ServerTuning;
import dev.wimg.server.internal.replication.Replication;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;

/**
 * A storage node of a cluster: a {@link WimgServer} over its data folder that heartbeats to the
 * trackers and takes uploads only while a tracker accepts it as a member of its group
 * (docs/CLUSTER.md). Reads are served from the start.
 *
 * <p>On its first start it asks the trackers for its slot in its group and keeps it in its data
 * folder before it opens its store; the volumes it creates carry that slot in their ids. Later
 * starts never ask, so they do not depend on the trackers.
 */
public final class StorageNode implements AutoCloseable {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(StorageNode.class);

  private final WimgServer server;
  private final Heartbeats heartbeats;
  private final Replication replication;
  private final NodeIdentity identity;
  private final URI url;
  private final SpreadChunks chunks;
  private final NodeTasks tasks;

  private StorageNode(WimgServer server, Heartbeats heartbeats, Replication replication,
                      NodeIdentity identity, URI url, SpreadChunks chunks, NodeTasks tasks) {
    this.chunks = chunks;
    this.tasks = tasks;
    this.server = server;
    this.heartbeats = heartbeats;
    this.replication = replication;
    this.identity = identity;
    this.url = url;
  }

  /**
   * Opens the data folder (on the first start, once the trackers gave the node its slot, which
   * may take until {@link NodeConfig#slotDeadline()}), listens, and starts heartbeating.
   * {@code config}'s slot is replaced by the node's.
   *
   * @throws IllegalStateException when the folder belongs to another group
   * @throws IOException           when the folder cannot be opened, the port not bound, or no
   *                               tracker gave a slot in time
   */
  public static StorageNode start(ServerConfig config, NodeConfig node) throws IOException {
    java.nio.file.Path dataDir = config.store().dataDir();
    NodeIdentity identity = NodeIdentity.load(dataDir, config.store().group());
    if (!identity.hasSlot()) {
      int slot;
      try {
        slot = new SlotClaimer(node.trackers(), node.clusterKey()).claim(identity.group(),
            identity.node(), node.slotDeadline(), System::nanoTime);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted while asking for a slot");
      }
      identity = identity.withSlot(dataDir, slot);
    }
    config = config.withStore(config.store().withSlot(identity.slot()));
    Membership membership = Membership.awaitingTracker(identity.group());
    Replication replication = new Replication(node.copies(), identity.node(), node.clusterKey(),
        node.catchUpInterval());
    WimgServer server;
    SpreadChunks[] spread = new SpreadChunks[1];
    int group = identity.group();
    String writeKey = config.writeKey();
    PinnedCopies pins;
    try {
      pins = PinnedCopies.open(config.store());
    } catch (IOException | RuntimeException e) {
      replication.close();
      throw e;
    }
    try {
      // a large file's chunks go to the cluster's writable groups in turn; files and pieces that
      // distribution tasks pinned here are read under their original fids
      server = WimgServer.start(config, ServerTuning.defaults(), null, membership, replication,
          local -> new PinnedChunks(spread[0] = new SpreadChunks(local, group, node.trackers(), writeKey,
              System::nanoTime), pins),
          own -> new PinnedReads(own, group, pins), node.distribution());
    } catch (dev.wimg.storage.CorruptNeedleException e) {
      replication.close();
      closeQuietly(pins);
      throw new CorruptDataException(e.getMessage(), e);
    } catch (IOException | RuntimeException e) {
      replication.close();
      closeQuietly(pins);
      throw e;
    }
    NodeTasks tasks = null;
    try {
      URI url = node.publicUrl() != null ? node.publicUrl() : localUrl(server.address());
      tasks = new NodeTasks(dataDir, new NodeTasks.Node(identity.node(), url.toString(), group, node.trackers(),
          node.clusterKey()), pins, server.context().store(), lan(config, node), node.distribution().fetchRate(),
          node.distribution().pinCheckInterval());
      Heartbeats heartbeats = new Heartbeats(server.context(), identity, url.toString(),
          node.zone(), node.trackers(), node.clusterKey(), node.heartbeatInterval(),
          node.reserveBytes(), membership, replication, tasks::offer);
      return new StorageNode(server, heartbeats, replication, identity, url, spread[0], tasks);
    } catch (IOException | RuntimeException e) {
      if (tasks != null) {
        tasks.close();
      }
      server.close();
      replication.close();
      throw e;
    }
  }

  /**
   * LAN discovery's sockets, or null when it is off: it needs a group, a cluster key (which signs
   * its datagrams) and a bind address of one interface (whose LAN it asks).
   */
  private static LanDiscovery.Transport lan(ServerConfig config, NodeConfig node) {
    if (node.lanGroup() == null || node.clusterKey() == null) {
      return null;
    }
    try {
      java.net.InetAddress bind = java.net.InetAddress.getByName(config.bind());
      if (bind.isLoopbackAddress() || bind.isAnyLocalAddress() || !(bind instanceof java.net.Inet4Address)) {
        LOG.info("LAN discovery off: it needs --bind of one network interface's IPv4 address, not {}",
            config.bind());
        return null;
      }
      return LanDiscovery.udp(bind, node.lanGroup());
    } catch (IOException | RuntimeException e) {
      LOG.warn("LAN discovery off: cannot join {} on {}: {}", node.lanGroup(), config.bind(), e.toString());
      return null;
    }
  }

  private static void closeQuietly(PinnedCopies pins) {
    try {
      pins.close();
    } catch (IOException ignored) {
      // the failure being reported matters more
    }
  }

  private static URI localUrl(InetSocketAddress address) {
    String host = address.getAddress().isAnyLocalAddress() ? "127.0.0.1"
        : address.getAddress() instanceof java.net.Inet6Address
            ? "[" + address.getAddress().getHostAddress() + "]"
            : address.getAddress().getHostAddress();
    return URI.create("http://" + host + ":" + address.getPort());
  }

  /** The node id, kept in its data folder. */
  public String nodeId() {
    return identity.node();
  }

  /** Its slot in its group, kept in its data folder. */
  public int slot() {
    return identity.slot();
  }

  /** Where it is reached, as it tells the trackers. */
  public URI url() {
    return url;
  }

  /** The port it listens on. */
  public int port() {
    return server.port();
  }

  /** Blocks until the server stops. */
  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public void close() {
    heartbeats.close();
    tasks.close();
    replication.close();
    server.close();
    chunks.close();
  }
}
