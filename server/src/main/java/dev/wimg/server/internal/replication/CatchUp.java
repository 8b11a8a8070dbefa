package dev.wimg.server.internal.replication;

import dev.wimg.protocol.ClusterView;
import dev.wimg.protocol.MemberState;
import dev.wimg.storage.CopyOffsetException;
import dev.wimg.storage.CopyReplacement;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.time.Duration;
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
 * <p>A copy whose writer vacuumed the volume (a peer lists it at a later revision) is replaced: the
 * new revision is read from offset 0 into a {@link CopyReplacement} and swapped in whole, while
 * reads go on from the old one (docs/CLUSTER.md, "Vacuum"); the writer asks for it at once when
 * it sends the first records of the new revision ({@link #follow}).
 *
 * <p>A pass runs when the node first learns its peers, and then every interval (default 5 s),
 * which also brings in what a peer could not send while this node was unreachable. Until its
 * first pass has reached every length its peers reported, the node is {@code catching-up}:
 * trackers send it no reads and no uploads.
 */
final class CatchUp implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(CatchUp.class);

  /** Default time between passes after the first. */
  static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);
  /** A volume pulled for a read ({@link #pullNow}) is not pulled for another read this soon, ms. */
  static final long PULL_NOW_QUIET_MILLIS = 100;
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
  private final long intervalMillis;
  /** The pull for reads under way per volume ({@link #pullNow}). */
  private final Map<Integer, CompletableFuture<Boolean>> pullingNow = new ConcurrentHashMap<>();
  /** When each volume's last pull for a read ended, System.nanoTime(). */
  private final Map<Integer, Long> pulledNowAt = new ConcurrentHashMap<>();
  /** One replacement of a volume at a time: a pass and a writer's {@link #follow} may both ask. */
  private final Map<Integer, ReentrantLock> replacing = new ConcurrentHashMap<>();
  /** Bytes pulled since start, for /status. */
  private volatile long pulledBytes;

  /**
   * @param self    this node's id
   * @param members the members of the group as last reported, this one included (none until a
   *                tracker answered)
   */
  CatchUp(Store store, ReplicaClient client, String self, Supplier<List<ClusterView.Member>> members,
          Duration interval, java.util.function.Function<URI, PeerChannel> connections) {
    this.intervalMillis = interval.toMillis();
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

  /**
   * Replaces this node's copy of {@code volume} by revision {@code revision} read from {@code
   * writer}, unless it holds that revision already; blocks until done.
   *
   * @return whether this node's copy is now of that revision (or a later one)
   */
  boolean follow(URI writer, int volume, int revision) throws InterruptedException {
    int wanted = revision;
    for (int attempt = 0; attempt < 3; attempt++) {
      if (replace(writer, volume, wanted, Long.MAX_VALUE)) {
        return true;
      }
      // the writer may have vacuumed the volume again meanwhile: follow its latest revision
      ReplicaClient.PeerVolume now;
      try {
        now = client.volumes(writer).get(volume);
      } catch (IOException e) {
        return false;
      }
      if (now == null || now.revision() <= wanted) {
        return false;
      }
      wanted = now.revision();
    }
    return false;
  }

  /**
   * Pulls {@code volume}'s tail from the live peer that holds the most of it, now, for a read
   * that did not find its file here; completes with whether this copy grew. Shared by the reads
   * of one volume meanwhile; quiet for {@link #PULL_NOW_QUIET_MILLIS} after the last.
   */
  CompletableFuture<Boolean> pullNow(int volume) {
    Long last = pulledNowAt.get(volume);
    if (last != null && System.nanoTime() - last < PULL_NOW_QUIET_MILLIS * 1_000_000) {
      CompletableFuture<Boolean> running = pullingNow.get(volume);
      return running != null ? running : CompletableFuture.completedFuture(false);
    }
    CompletableFuture<Boolean> mine = new CompletableFuture<>();
    CompletableFuture<Boolean> running = pullingNow.putIfAbsent(volume, mine);
    if (running != null) {
      return running;
    }
    // a thread of its own: a read must not queue behind a pass's pulls of whole volumes
    Thread.ofVirtual().name("wimg-pull-for-read-" + volume).start(() -> {
      try {
        mine.complete(!closed && pullVolume(volume));
      } catch (InterruptedException e) {
        mine.complete(false);
      } catch (RuntimeException e) {
        mine.completeExceptionally(e);
      } finally {
        pulledNowAt.put(volume, System.nanoTime());
        pullingNow.remove(volume, mine);
      }
    });
    return mine;
  }

  /** {@link #pullNow}'s work: the peers' copies of one volume listed, the best one's tail pulled. */
  private boolean pullVolume(int volume) throws InterruptedException {
    ReplicaClient.PeerVolume mine = null;
    for (StoreStats.VolumeStats v : store.stats().volumes()) {
      if (v.id() == volume) {
        mine = new ReplicaClient.PeerVolume(v.revision(), v.usedBytes());
      }
    }
    ReplicaClient.PeerVolume best = null;
    URI from = null;
    for (ClusterView.Member peer : members.get()) {
      if (peer.id().equals(self) || peer.state().equals(MemberState.DOWN.token())) {
        continue;
      }
      URI url = URI.create(peer.url());
      ReplicaClient.PeerVolume copy;
      try {
        copy = client.volumes(url).get(volume);
      } catch (IOException e) {
        continue;
      }
      boolean ahead = copy != null && (mine == null || copy.revision() > mine.revision()
          || copy.revision() == mine.revision() && copy.end() > mine.end());
      if (ahead && (best == null || copy.revision() > best.revision()
          || copy.revision() == best.revision() && copy.end() > best.end())) {
        best = copy;
        from = url;
      }
    }
    if (best == null) {
      return false;
    }
    return mine != null && best.revision() > mine.revision()
        ? replace(from, volume, best.revision(), best.end())
        : pull(from, volume, best.revision(), mine == null ? 0 : mine.end(), best.end());
  }

  private int revisionHere(int volume) {
    return store.stats().volumes().stream().filter(v -> v.id() == volume)
        .mapToInt(StoreStats.VolumeStats::revision).findFirst().orElse(-1);
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
        Thread.sleep(known ? intervalMillis : 100);
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
    Map<Integer, ReplicaClient.PeerVolume> have = new HashMap<>();
    for (StoreStats.VolumeStats v : store.stats().volumes()) {
      have.put(v.id(), new ReplicaClient.PeerVolume(v.revision(), v.usedBytes()));
    }
    Map<Integer, ReplicaClient.PeerVolume> best = new HashMap<>();
    Map<Integer, URI> holder = new HashMap<>();
    boolean allAnswered = true;
    for (ClusterView.Member peer : live) {
      URI url = URI.create(peer.url());
      Map<Integer, ReplicaClient.PeerVolume> theirs;
      try {
        theirs = client.volumes(url);
      } catch (IOException e) {
        allAnswered = false;
        LOG.debug("cannot list the volumes of {}: {}", url, e.toString());
        continue;
      }
      theirs.forEach((volume, copy) -> {
        int writer = StoreConfig.slotOf(volume);
        ReplicaClient.PeerVolume mine = have.get(volume);
        // own volumes too, at their revision: a peer may hold a tail this node lost to a power
        // loss before its fsync (the store takes it back only into a sealed volume); only their
        // writer, this node, vacuums them
        boolean ahead = mine == null || copy.revision() == mine.revision() && copy.end() > mine.end()
            || copy.revision() > mine.revision() && writer != store.config().slot();
        if (writer == 0 || !ahead) {
          return;
        }
        // the latest revision, the longest copy of it; of equal ones the writer's, so that
        // volumes are read from their writers and a new member reads from all its peers at once
        ReplicaClient.PeerVolume chosen = best.get(volume);
        if (chosen == null || copy.revision() > chosen.revision()
            || copy.revision() == chosen.revision() && (copy.end() > chosen.end()
                || copy.end() == chosen.end() && peer.slot() == writer)) {
          best.put(volume, copy);
          holder.put(volume, url);
        }
      });
    }
    List<Future<Boolean>> running = new ArrayList<>();
    best.forEach((volume, copy) -> {
      ReplicaClient.PeerVolume mine = have.get(volume);
      running.add(pulls.submit(() -> mine != null && copy.revision() > mine.revision()
          ? replace(holder.get(volume), volume, copy.revision(), copy.end())
          : pull(holder.get(volume), volume, copy.revision(), mine == null ? 0 : mine.end(), copy.end())));
    });
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
   * Replaces this node's copy of {@code volume} by the peer's later revision {@code revision}:
   * read from offset 0 into a {@link CopyReplacement} up to {@code target} bytes (or the peer's
   * end, for {@link Long#MAX_VALUE}), then swapped in. True when this node's copy is of that
   * revision now (one replacement of a volume runs at a time; the second finds it done).
   */
  private boolean replace(URI peer, int volume, int revision, long target) throws InterruptedException {
    ReentrantLock lock = replacing.computeIfAbsent(volume, v -> new ReentrantLock());
    lock.lockInterruptibly();
    try {
      if (revisionHere(volume) >= revision) {
        return true;
      }
      long started = System.nanoTime();
      try (PeerChannel channel = connections.apply(peer);
           CopyReplacement replacement = store.replaceCopy(volume, revision)) {
        while (replacement.length() < target && !closed) {
          Page page = page(channel, volume, revision, replacement.length());
          try {
            if (page.length() == 0) {
              break;
            }
            replacement.append(page.records());
            pulledBytes += page.length();
          } finally {
            page.release();
          }
        }
        if (closed || replacement.length() == 0
            || target != Long.MAX_VALUE && replacement.length() < target) {
          return false;
        }
        long end = replacement.commit().get();
        LOG.info("volume {}: copy replaced by its writer's revision {} from {} ({} bytes in {} ms)",
            volume, revision, peer, end, (System.nanoTime() - started) / 1_000_000);
        return true;
      } catch (IllegalArgumentException | IOException e) {
        LOG.warn("replacing the copy of volume {} by revision {} from {} failed: {}", volume,
            revision, peer, e.toString());
        return false;
      } catch (ExecutionException e) {
        LOG.warn("replacing the copy of volume {} by revision {} from {} failed: {}", volume,
            revision, peer, e.getCause().toString());
        return false;
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Pulls revision {@code revision} of {@code volume} from {@code from} up to at least {@code
   * target}; true when it got there. The next page is read from the peer while the store appends
   * the last one.
   */
  private boolean pull(URI peer, int volume, int revision, long from, long target) throws InterruptedException {
    long at = from;
    Page page = null;
    Page next = null;
    try (PeerChannel channel = connections.apply(peer)) {
      page = page(channel, volume, revision, at);
      while (page.length() > 0 && !closed) {
        int n = page.length();
        CompletableFuture<Long> written = store.copy(volume, revision, at, page.records());
        long following = at + n;
        try {
          next = following < target ? page(channel, volume, revision, following) : null;
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
            page = at < target ? page(channel, volume, revision, at) : null;
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
          page = at < target ? page(channel, volume, revision, at) : null;
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

  /**
   * Whole records of revision {@code revision} of {@code volume} from {@code from} on the peer;
   * empty at its durable end.
   */
  private static Page page(PeerChannel channel, int volume, int revision, long from)
      throws IOException, InterruptedException {
    PeerChannel.BufferAnswer answer = channel.get("/replica/" + volume + "?revision=" + revision
        + "&from=" + from + "&max=" + PAGE_BYTES, PeerSender.REQUEST_SECONDS * 1000);
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
