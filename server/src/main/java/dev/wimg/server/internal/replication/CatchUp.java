package dev.wimg.server.internal.replication;

import dev.wimg.protocol.ClusterView;
import dev.wimg.protocol.MemberState;
import dev.wimg.storage.CopyOffsetException;
import dev.wimg.storage.Store;
import dev.wimg.storage.StoreConfig;
import dev.wimg.storage.StoreStats;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pulls what this node lacks of its peers' volumes (docs/CLUSTER.md, "Catch-up"): each volume of
 * another slot that a peer holds longer than this node is read from that peer in whole records
 * ({@code GET /replica/<volume>?from=N}), each checked by {@link Store#copy} as it is appended.
 * Volumes are pulled in parallel, each from the peer that holds the most of it, so a node with
 * several peers reads from all of them.
 *
 * <p>A pass runs when the node first learns its peers, and then every {@link #PERIOD_MILLIS} ms,
 * which also brings in what a peer could not send while this node was unreachable. Until its
 * first pass has reached every length its peers reported, the node is {@code catching-up}:
 * trackers send it no reads and no uploads.
 */
final class CatchUp implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(CatchUp.class);

  /** Time between passes after the first, ms. */
  static final long PERIOD_MILLIS = 5_000;
  /** Bytes asked of a peer per request. */
  static final int PAGE_BYTES = ReplicaHandler.MOST_READ_BYTES;
  /** Volumes pulled at once. */
  static final int PARALLEL = 4;

  private final Store store;
  private final ReplicaClient client;
  private final String self;
  private final Supplier<List<ClusterView.Member>> members;
  /** A connection to a peer for one pull (the pages are large: not the JDK client's job). */
  private final java.util.function.Function<URI, PeerChannel> connections;
  private final ExecutorService pulls = Executors.newFixedThreadPool(PARALLEL,
      Thread.ofVirtual().name("wimg-catch-up-", 0).factory());
  private final Thread thread;
  private volatile boolean caughtUp;
  private volatile boolean closed;
  /** Bytes pulled since start, for /status. */
  private volatile long pulledBytes;

  /**
   * @param self    this node's id
   * @param members the members of the group as last reported, this one included (none until a
   *                tracker answered)
   */
  CatchUp(Store store, ReplicaClient client, String self, Supplier<List<ClusterView.Member>> members,
          java.util.function.Function<URI, PeerChannel> connections) {
    this.store = store;
    this.client = client;
    this.self = self;
    this.members = members;
    this.connections = connections;
    this.thread = Thread.ofVirtual().name("wimg-catch-up").start(this::run);
  }

  /** Whether the first pass has brought in everything the peers held when it began. */
  boolean caughtUp() {
    return caughtUp;
  }

  long pulledBytes() {
    return pulledBytes;
  }

  private void run() {
    while (!closed) {
      List<ClusterView.Member> group = members.get();
      boolean known = !group.isEmpty();
      if (known) {
        List<ClusterView.Member> live = group.stream().filter(m -> !m.id().equals(self)
            && !m.state().equals(MemberState.DOWN.token())).toList();
        try {
          long started = System.nanoTime();
          boolean complete = pass(live);
          if (complete && !caughtUp) {
            caughtUp = true;
            LOG.info("caught up with {} peer(s): {} bytes copied, the last pass in {} ms", live.size(),
                pulledBytes, (System.nanoTime() - started) / 1_000_000);
          }
        } catch (InterruptedException e) {
          return;
        } catch (RuntimeException e) {
          LOG.warn("catch-up pass failed", e);
        }
      }
      try {
        Thread.sleep(known ? PERIOD_MILLIS : 100);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /**
   * One pass: the lengths of every live peer's volumes, then the missing tails pulled.
   *
   * @return whether every volume reached the longest length a peer reported
   */
  boolean pass(List<ClusterView.Member> live) throws InterruptedException {
    Map<Integer, Long> have = new HashMap<>();
    for (StoreStats.VolumeStats v : store.stats().volumes()) {
      have.put(v.id(), v.usedBytes());
    }
    Map<Integer, Long> longest = new HashMap<>();
    Map<Integer, URI> holder = new HashMap<>();
    boolean allAnswered = true;
    for (ClusterView.Member peer : live) {
      URI url = URI.create(peer.url());
      Map<Integer, Long> theirs;
      try {
        theirs = client.volumes(url);
      } catch (IOException e) {
        allAnswered = false;
        LOG.debug("cannot list the volumes of {}: {}", url, e.toString());
        continue;
      }
      theirs.forEach((volume, end) -> {
        int writer = StoreConfig.slotOf(volume);
        long best = longest.getOrDefault(volume, 0L);
        // the longest copy; of equal ones the writer's, so that volumes are read from their
        // writers and a new member reads from all its peers at once
        // own volumes too: a peer may hold a tail this node lost to a power loss before its
        // fsync (the store takes it back only into a sealed volume)
        if (writer != 0 && end > have.getOrDefault(volume, 0L)
            && (end > best || end == best && peer.slot() == writer)) {
          longest.put(volume, end);
          holder.put(volume, url);
        }
      });
    }
    List<Future<Boolean>> running = new ArrayList<>();
    longest.forEach((volume, end) -> running.add(pulls.submit(() ->
        pull(holder.get(volume), volume, have.getOrDefault(volume, 0L), end))));
    boolean complete = allAnswered;
    for (Future<Boolean> f : running) {
      try {
        complete &= f.get();
      } catch (ExecutionException e) {
        complete = false;
        LOG.warn("catch-up pull failed", e.getCause());
      }
    }
    return complete;
  }

  /**
   * Pulls {@code volume} from {@code from} up to at least {@code target}; true when it got there.
   * The next page is read from the peer while the store appends the last one.
   */
  private boolean pull(URI peer, int volume, long from, long target) throws InterruptedException {
    long at = from;
    Page page = null;
    Page next = null;
    try (PeerChannel channel = connections.apply(peer)) {
      page = page(channel, volume, at);
      while (page.length() > 0 && !closed) {
        int n = page.length();
        CompletableFuture<Long> written = store.copy(volume, at, page.records());
        long following = at + n;
        try {
          next = following < target ? page(channel, volume, following) : null;
        } catch (IOException | InterruptedException e) {
          awaitQuietly(written); // the store may be writing from the page: released after
          throw e;
        }
        try {
          at = written.get();
        } catch (ExecutionException e) {
          if (e.getCause() instanceof CopyOffsetException gap) {
            at = gap.end(); // its own sender wrote meanwhile: go on from where this copy ends
            page = release(page, next);
            next = null;
            page = at < target ? page(channel, volume, at) : null;
            if (page == null) {
              break;
            }
            continue;
          }
          if (e.getCause() instanceof IllegalArgumentException) {
            return true; // this node's volume in use: a peer holds bytes not yet forced here
          }
          throw new IOException(e.getCause());
        }
        pulledBytes += n;
        page.release();
        page = null;
        if (at == following && next != null) {
          page = next;
        } else {
          page = release(null, next);
          page = at < target ? page(channel, volume, at) : null;
        }
        next = null;
        if (page == null) {
          break;
        }
      }
    } catch (IOException e) {
      LOG.warn("catch-up of volume {} from {} stopped at {} of {}: {}", volume, peer, at, target,
          e.toString());
      return false;
    } finally {
      release(page, next);
    }
    return at >= target;
  }

  /**
   * A page of records as read off the socket, gathered into one pooled direct buffer when it came
   * in several (so the store writes it with no copy of its own); released once appended.
   */
  private record Page(io.netty.buffer.ByteBuf buffer) {

    int length() {
      return buffer.readableBytes();
    }

    ByteBuffer records() {
      return buffer.nioBuffer();
    }

    void release() {
      buffer.release();
    }
  }

  private static void awaitQuietly(CompletableFuture<Long> written) {
    try {
      written.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      written.join(); // the page must outlive the write: the store's writer never hangs
    } catch (ExecutionException e) {
      // the failure that matters is the one being thrown
    }
  }

  /** Releases what is not null; returns null. */
  private static Page release(Page a, Page b) {
    if (a != null) {
      a.release();
    }
    if (b != null) {
      b.release();
    }
    return null;
  }

  /** Whole records of {@code volume} from {@code from} on the peer; empty at its durable end. */
  private static Page page(PeerChannel channel, int volume, long from)
      throws IOException, InterruptedException {
    PeerChannel.BufferAnswer answer = channel.get("/replica/" + volume + "?from=" + from + "&max="
        + PAGE_BYTES, PeerSender.REQUEST_SECONDS * 1000);
    io.netty.buffer.ByteBuf body = answer.body();
    if (answer.status() != 200) {
      body.release();
      throw new IOException("answered " + answer.status() + " to a read of volume " + volume
          + " from " + from);
    }
    if (body.nioBufferCount() == 1 && body.isDirect()) {
      return new Page(body);
    }
    io.netty.buffer.ByteBuf merged = io.netty.buffer.PooledByteBufAllocator.DEFAULT
        .directBuffer(body.readableBytes());
    merged.writeBytes(body);
    body.release();
    return new Page(merged);
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    pulls.shutdownNow();
  }
}
