package dev.wimg.server.internal.replication;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.protocol.ClusterView;
import dev.wimg.protocol.MemberState;
import dev.wimg.server.internal.http.Transport;
import dev.wimg.storage.AppendListener;
import dev.wimg.protocol.Fid;
import dev.wimg.storage.Store;
import dev.wimg.storage.StoreConfig;
import dev.wimg.storage.StoreStats;
import java.io.IOException;
import io.netty.channel.EventLoopGroup;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A storage node's side of synchronous replication (docs/CLUSTER.md, "Replication"): what its
 * store appends to its own volumes goes to every other member of its group ({@link PeerSender}),
 * and a write is acknowledged once {@code copies} members, this one included, hold it durable.
 *
 * <p>The members come from the trackers' answers to the node's heartbeats ({@link #group}); until
 * a tracker has answered, the node knows no peer, and a node that takes no uploads until a
 * tracker accepts it never acknowledges a write with too few copies for want of knowing them.
 *
 * <p>Thread-safe: the store's writer calls {@link #appended}, request threads {@link #awaitCopies},
 * the heartbeat thread {@link #group}.
 */
public final class Replication implements AppendListener, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Replication.class);

  /** How long a read that found a damaged record waits for the peer's copy to be written, s. */
  static final long REPAIR_WAIT_SECONDS = 2 * PeerSender.REQUEST_SECONDS;

  private final int copies;
  private final String self;
  private final String clusterKey;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();
  private final ObjectMapper mapper = new ObjectMapper();
  private final ReplicaClient client;
  /** The connections to the peers' {@code /replica}: one event loop is plenty. */
  private final Transport transport = Transport.select();
  private final EventLoopGroup peerLoop = transport.newDaemonGroup(1, "wimg-replica");
  private volatile Store store;
  private volatile CatchUp catchUp;
  /** The other members, by node id. */
  private final Map<String, PeerSender> peers = new ConcurrentHashMap<>();
  /** The group as a tracker last told it, this node included. */
  private volatile List<ClusterView.Member> members = List.of();
  /** The revision and end of the last range appended to each of this node's volumes. */
  private final Map<Integer, Appended> appendedEnds = new ConcurrentHashMap<>();
  /** Told of each file a copy of a peer's volume deleted here (its derived pictures go). */
  private volatile Consumer<Fid> onCopiedDelete = fid -> { };

  private record Appended(int revision, long end) {}
  private volatile boolean closed;
  private final AtomicLong repairs = new AtomicLong();
  /** Reads that found their file only after pulling the volume's tail from a peer. */
  private final AtomicLong pulledOnRead = new AtomicLong();
  private final Duration catchUpInterval;

  /**
   * @param copies     members that must hold a write before it is acknowledged (this one
   *                   included); fewer when the group is smaller
   * @param self       this node's id
   * @param clusterKey sent to peers, or null
   * @param catchUpInterval time between catch-up passes
   */
  public Replication(int copies, String self, String clusterKey, Duration catchUpInterval) {
    this.catchUpInterval = catchUpInterval;
    if (copies < 1) {
      throw new IllegalArgumentException("copies must be at least 1, got " + copies);
    }
    this.copies = copies;
    this.self = self;
    this.clusterKey = clusterKey;
    this.client = new ReplicaClient(http, mapper, clusterKey);
  }

  /** The cluster key peers must send, or null (loopback only). */
  public String clusterKey() {
    return clusterKey;
  }

  ReplicaClient client() {
    return client;
  }

  /** Wraps the node's store: writes and deletes through it wait for their copies. */
  public Store attach(Store local) {
    this.store = local;
    this.catchUp = new CatchUp(local, client, self, () -> members, catchUpInterval,
        url -> new PeerChannel(peerLoop, transport, url, clusterKey, CatchUp.PAGE_BYTES + (1 << 20)));
    return new ReplicatedStore(local, this, client);
  }

  /**
   * Whether the node is still bringing in what its peers held when it learned of them: it is
   * then {@code catching-up} and takes no reads or uploads from the trackers.
   */
  public boolean catchingUp() {
    CatchUp c = catchUp;
    return c != null && !c.caughtUp();
  }

  /** Bytes copied from peers by catch-up since start. */
  public long caughtUpBytes() {
    CatchUp c = catchUp;
    return c == null ? 0 : c.pulledBytes();
  }

  /** The store the node's volumes are in (not the replicating wrapper). */
  Store local() {
    return store;
  }

  @Override
  public void appended(int volume, int revision, long offset, ByteBuffer bytes) {
    byte[] copy;
    if (bytes.hasArray() && bytes.arrayOffset() == 0 && bytes.position() == 0
        && bytes.remaining() == bytes.array().length) {
      copy = bytes.array(); // the store's own copy, handed over
    } else {
      copy = new byte[bytes.remaining()];
      bytes.duplicate().get(copy);
    }
    PeerSender.Range range = new PeerSender.Range(volume, revision, offset, copy);
    for (PeerSender peer : peers.values()) {
      peer.send(range);
    }
    // only now: a write that waits for this end finds the range queued to every peer
    appendedEnds.put(volume, new Appended(revision, range.end()));
  }

  @Override
  public void deletedByCopy(Fid fid) {
    onCopiedDelete.accept(fid);
  }

  /**
   * What to do with a file a copy of a peer's volume deleted here: the storage node drops its
   * derived pictures, which are each member's own (docs/CLUSTER.md, "Derived pictures").
   */
  public void onCopiedDelete(Consumer<Fid> action) {
    this.onCopiedDelete = action;
  }

  /**
   * Replaces this node's copy of {@code volume} by revision {@code revision}, read from the
   * volume's writer, which vacuumed it and asks ({@code POST /replica/<volume>/follow}). Blocks
   * until done.
   *
   * @throws IOException if the writer is unknown or the copy could not be replaced
   */
  void follow(int volume, int revision) throws IOException, InterruptedException {
    CatchUp c = catchUp;
    ClusterView.Member writer = writerOf(StoreConfig.slotOf(volume)).orElseThrow(() -> new IOException(
        "the writer of volume " + volume + " is not known here yet"));
    if (c == null || !c.follow(URI.create(writer.url()), volume, revision)) {
      throw new IOException("volume " + volume + " could not be replaced by revision " + revision
          + " from " + writer.url() + " (see this node's log)");
    }
  }

  /**
   * Completes once enough members hold what this node appended to {@code volume} so far, or
   * fails with {@link NotEnoughCopiesException}. Called once the local write is durable (the
   * store reported its range before it acknowledged it).
   *
   * @param what the record, for the failure's message
   */
  CompletableFuture<Void> awaitCopies(int volume, String what) {
    Appended last = appendedEnds.getOrDefault(volume, new Appended(0, 0));
    int groupSize = Math.max(1, members.size());
    List<PeerSender> senders = List.copyOf(peers.values());
    CopyWaiter waiter = new CopyWaiter(Math.min(copies, groupSize) - 1, senders.size(), what);
    for (PeerSender peer : senders) {
      peer.await(volume, last.revision(), last.end(), waiter);
    }
    // No timer per write: every sender it waits on answers it, by the peer's answer, by the
    // request's own timeout, or at once when the range never reached the sender.
    return waiter.done;
  }

  /** {@code --copies}: members that must hold a write, this one included. */
  public int copies() {
    return copies;
  }

  /**
   * Rewrites the record at {@code offset} of {@code volume} from the first live peer whose copy of
   * it passes its checks ({@link Store#repair}).
   *
   * @return whether a peer's copy was written
   */
  boolean repairFromPeers(int volume, long offset) {
    int revision = store.stats().volumes().stream().filter(v -> v.id() == volume)
        .mapToInt(StoreStats.VolumeStats::revision).findFirst().orElse(-1);
    if (revision < 0) {
      return false;
    }
    for (ClusterView.Member m : members) {
      if (m.id().equals(self) || m.state().equals(MemberState.DOWN.token())) {
        continue;
      }
      try {
        ByteBuffer record = client.records(URI.create(m.url()), volume, revision, offset, 1);
        if (record.hasRemaining()) {
          store.repair(volume, offset, record).get(REPAIR_WAIT_SECONDS, TimeUnit.SECONDS);
          repairs.incrementAndGet();
          return true;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      } catch (Exception e) {
        LOG.warn("repair of volume {} at {} from {} failed: {}", volume, offset, m.url(), e.toString());
      }
    }
    return false;
  }

  /**
   * Pulls what the peers hold of {@code volume} past this node's copy now, for a read that did
   * not find its file here ({@link ReplicatedStore#read}); blocks for at most {@link
   * PeerSender#REQUEST_SECONDS}. One pull per volume at a time, readers of the same volume share
   * it, and a volume pulled less than {@link CatchUp#PULL_NOW_QUIET_MILLIS} ago is not asked
   * again (a fid that no member holds costs its peers little).
   *
   * @return whether this node's copy grew
   */
  boolean pullNow(int volume) {
    CatchUp c = catchUp;
    if (c == null) {
      return false;
    }
    try {
      boolean grew = c.pullNow(volume).get(PeerSender.REQUEST_SECONDS, TimeUnit.SECONDS);
      if (grew) {
        pulledOnRead.incrementAndGet();
      }
      return grew;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      LOG.warn("pulling volume {} for a read failed: {}", volume, e.toString());
      return false;
    }
  }

  /** Records rewritten from a peer's copy since start. */
  public long repairs() {
    return repairs.get();
  }

  /** Copies an upload needs now: {@code --copies}, or the group's size if smaller. */
  public int copiesNeeded() {
    return Math.min(copies, Math.max(1, members.size()));
  }

  /** The other members of the group as last told. */
  List<ClusterView.Member> peers() {
    return members.stream().filter(m -> !m.id().equals(self)).toList();
  }

  /** Members of the group as last told, this node included. */
  public List<ClusterView.Member> members() {
    return members;
  }

  /** The member that writes {@code slot}'s volumes, if known. */
  Optional<ClusterView.Member> writerOf(int slot) {
    return members.stream().filter(m -> m.slot() == slot).findFirst();
  }

  /**
   * The group as a tracker reports it: senders are started for new members, stopped for members
   * gone, and told which are down.
   */
  public synchronized void group(ClusterView.Group group) {
    if (closed || store == null) {
      return;
    }
    members = group.members();
    Map<String, ClusterView.Member> others = new HashMap<>();
    for (ClusterView.Member m : group.members()) {
      if (!m.id().equals(self)) {
        others.put(m.id(), m);
      }
    }
    peers.entrySet().removeIf(e -> {
      ClusterView.Member m = others.get(e.getKey());
      boolean gone = m == null || !URI.create(m.url()).equals(e.getValue().url());
      if (gone) {
        e.getValue().close();
      }
      return gone;
    });
    others.forEach((id, m) -> {
      PeerSender sender = peers.computeIfAbsent(id, k -> new PeerSender(id, URI.create(m.url()),
          new PeerChannel(peerLoop, transport, URI.create(m.url()), clusterKey, 64 << 10), mapper,
          store, client::follow));
      sender.down(m.state().equals(MemberState.DOWN.token()));
    });
  }

  /**
   * What {@code /status} shows of replication.
   *
   * @param copies           {@code --copies}
   * @param copiesNeeded     copies an upload needs now (fewer when the group is smaller)
   * @param peers            other members of the group as a tracker last reported them
   * @param unreachablePeers peers not sent to now (a recent failure, or reported down)
   * @param catchingUp       whether the first catch-up pass is still running
   * @param caughtUpBytes    bytes copied from peers by catch-up since start
   * @param repairs          damaged records rewritten from a peer's copy since start
   * @param pulledOnRead     reads that found their file only after pulling the volume's tail
   *                         from a peer (this copy lagged) since start
   */
  public record Status(int copies, int copiesNeeded, int peers, long unreachablePeers,
                       boolean catchingUp, long caughtUpBytes, long repairs, long pulledOnRead) {}

  public Status status() {
    return new Status(copies, copiesNeeded(), peers.size(),
        peers.values().stream().filter(PeerSender::unreachable).count(), catchingUp(),
        caughtUpBytes(), repairs.get(), pulledOnRead.get());
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (catchUp != null) {
      catchUp.close();
    }
    peers.values().forEach(PeerSender::close);
    peers.clear();
    http.close();
    peerLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
