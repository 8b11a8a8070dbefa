package dev.wimg.server.internal.replication;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.storage.CopyRevisionException;
import dev.wimg.storage.Store;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the records this node writes to one peer of its group, in order, and tells the {@link
 * CopyWaiter}s when the peer has them durable (docs/CLUSTER.md, "Replication").
 *
 * <p>One request at a time: the ranges that queue up while one is in flight go together in the
 * next, so that under load a peer's fsync is shared by many uploads as the writer's is. The peer
 * answers with its copy's length; a peer that is behind ({@code 409} naming its length) is sent
 * what it lacks from this node's volume first, up to {@value #MOST_GAP_BYTES} bytes, past which it
 * is left to catch up by itself. A peer whose copy of a volume is of an older revision (this node
 * vacuumed it; 409 naming its revision) is asked to replace its copy by this node's revision ({@code
 * POST /replica/<volume>/follow}); the runs of that volume are held meanwhile, their writes
 * waiting, and sent once it has (or failed if it could not), while other volumes' runs go on. A
 * peer that does not answer, or answers anything else, fails the records waiting on it and is
 * not tried again for {@value #RETRY_AFTER_MILLIS} ms (nor while a tracker reports it down):
 * uploads then do not wait for it, and the copies rule decides whether they are acknowledged.
 *
 * <p>Thread-safety: {@link #send} and {@link #await} come from the store's writer and from
 * completion threads; the queue, the lengths the peer confirmed and the waiters are guarded by
 * {@code this}. The sending thread is the only one that talks to the peer.
 */
final class PeerSender implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PeerSender.class);

  /** Most bytes sent in one request (a larger single range goes alone). */
  static final int MOST_REQUEST_BYTES = 8 << 20;
  /** Most bytes a peer may lack before a range for it to be sent them by the writer. */
  static final long MOST_GAP_BYTES = 64L << 20;
  /** How long a peer that failed is not tried, ms. */
  static final long RETRY_AFTER_MILLIS = 1000;
  /** How long a request to a peer may take, s. */
  static final long REQUEST_SECONDS = 10;

  /** A range of revision {@code revision} of one of this node's volumes, to send. */
  record Range(int volume, int revision, long offset, byte[] bytes) {
    long end() {
      return offset + bytes.length;
    }
  }

  /** Consecutive ranges of one revision of a volume, sent in one request. */
  record Run(int volume, int revision, long offset, List<byte[]> parts, long length) {
    long end() {
      return offset + length;
    }
  }

  private record Waiting(long copy, long end, CopyWaiter waiter) {}

  /** A peer's copy of a volume refused a run: it holds another revision, {@code held}. */
  private static final class RevisionRefused extends IOException {
    final int held;

    RevisionRefused(String message, int held) {
      super(message);
      this.held = held;
    }
  }

  /** Asks a peer to replace its copy of a volume by a revision of this node's ({@link Replication}). */
  @FunctionalInterface
  interface Follower {
    CompletableFuture<Void> follow(URI peer, int volume, int revision);
  }

  /** Key of one revision of a volume in the maps below. */
  static long copyKey(int volume, int revision) {
    return ((long) volume << 32) | Integer.toUnsignedLong(revision);
  }

  final String node;
  private final URI url;
  private final PeerChannel channel;
  private final ObjectMapper mapper;
  private final Store store;
  private final ArrayDeque<Range> queue = new ArrayDeque<>();
  /** Length of each volume's copy the peer confirmed durable, by {@link #copyKey}. */
  private final Map<Long, Long> confirmed = new HashMap<>();
  /** End of the last range of each volume queued since the peer last failed, by {@link #copyKey}. */
  private final Map<Long, Long> queuedEnd = new HashMap<>();
  /**
   * End of the last run of each copy ({@link #copyKey}) the peer refused for its revision: a
   * waiter that comes after the refusal fails at once.
   */
  private final Map<Long, Long> refusedEnd = new HashMap<>();
  private final List<Waiting> waiting = new ArrayList<>();
  /**
   * Runs held while the peer replaces its copy by a later revision, by {@link #copyKey}; sent
   * again, in order, once it has.
   */
  private final Map<Long, List<Run>> heldRuns = new HashMap<>();
  /** Runs to send before the queue: those held while the peer replaced its copy. */
  private final ArrayDeque<Run> released = new ArrayDeque<>();
  private final Follower follower;
  /** System.nanoTime() before which the peer is not tried; guarded by this. */
  private long brokenUntil = System.nanoTime();
  private String brokenBecause;
  /** A tracker reports the peer down; guarded by this. */
  private boolean down;
  private boolean closed;
  private final Thread thread;

  PeerSender(String node, URI url, PeerChannel channel, ObjectMapper mapper, Store store,
             Follower follower) {
    this.follower = follower;
    this.node = node;
    this.url = url;
    this.channel = channel;
    this.mapper = mapper;
    this.store = store;
    this.thread = Thread.ofVirtual().name("wimg-replicate-" + url.getAuthority()).start(this::run);
  }

  URI url() {
    return url;
  }

  /** Whether the peer is taken as unreachable now (its failure is recent, or it is down). */
  synchronized boolean unreachable() {
    return down || System.nanoTime() - brokenUntil < 0;
  }

  /** A tracker's view of the peer: down or not. */
  synchronized void down(boolean isDown) {
    if (isDown && !down) {
      down = true;
      failAll("a tracker reports it down");
    } else if (!isDown) {
      down = false;
    }
  }

  /** Queues a range (dropped while the peer is unreachable: it will be sent what it lacks later). */
  synchronized void send(Range range) {
    if (closed || unreachable()) {
      return;
    }
    queue.add(range);
    queuedEnd.put(copyKey(range.volume(), range.revision()), range.end());
    notifyAll();
  }

  /** Tells {@code waiter} when the peer holds revision {@code revision} of {@code volume} up to {@code end}. */
  void await(int volume, int revision, long end, CopyWaiter waiter) {
    String failure = null;
    boolean held = false;
    long copy = copyKey(volume, revision);
    synchronized (this) {
      if (confirmed.getOrDefault(copy, -1L) >= end) {
        held = true;
      } else if (closed || unreachable()) {
        failure = closed ? "closed" : down ? "down" : brokenBecause;
      } else if (refusedEnd.getOrDefault(copy, -1L) >= end) {
        failure = "its copy of volume " + volume + " is of another revision";
      } else if (queuedEnd.getOrDefault(copy, -1L) < end) {
        // its range was dropped while the peer was unreachable; the next one brings what it lacks
        failure = "it missed the record while unreachable";
      } else {
        waiting.add(new Waiting(copy, end, waiter));
      }
    }
    if (held) {
      waiter.confirmed();
    } else if (failure != null) {
      waiter.failed(url.toString(), failure);
    }
  }

  private void run() {
    while (true) {
      List<Run> batch;
      synchronized (this) {
        while (queue.isEmpty() && released.isEmpty() && !closed) {
          try {
            wait();
          } catch (InterruptedException e) {
            return;
          }
        }
        if (closed) {
          return;
        }
        batch = new ArrayList<>(released);
        released.clear();
        batch.addAll(runs(new ArrayList<>(queue)));
        queue.clear();
      }
      try {
        for (Run r : batch) {
          if (holdIfFollowing(r)) {
            continue;
          }
          try {
            deliver(r);
          } catch (RevisionRefused e) {
            if (e.held < r.revision()) {
              follow(r, e.getMessage());
            } else if (e.held != Integer.MAX_VALUE) {
              // The peer replaced its copy by a later revision of this node's, whose vacuum came
              // after r was appended: that revision holds r's records (a needle, or its absence).
              confirm(copyKey(r.volume(), r.revision()), r.end());
            } else {
              failVolume(copyKey(r.volume(), r.revision()), r.end(), e.getMessage());
            }
          }
        }
      } catch (IOException | RuntimeException e) {
        broken(e instanceof IOException && e.getMessage() != null ? e.getMessage() : e.toString());
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Holds {@code r} if the peer is replacing its copy of r's volume now; true if held. */
  private synchronized boolean holdIfFollowing(Run r) {
    List<Run> runs = heldRuns.get(copyKey(r.volume(), r.revision()));
    if (runs == null) {
      return false;
    }
    runs.add(r);
    return true;
  }

  /**
   * The peer refused {@code r} for an older revision: holds it and asks the peer to replace its
   * copy by this node's revision; then sends the held runs again, or fails their waiters.
   */
  private void follow(Run r, String why) {
    long copy = copyKey(r.volume(), r.revision());
    synchronized (this) {
      List<Run> runs = heldRuns.get(copy);
      if (runs != null) {
        runs.add(r);
        return;
      }
      heldRuns.put(copy, new ArrayList<>(List.of(r)));
    }
    LOG.info("{} ({}): {}; asking it to replace its copy", node, url, why);
    follower.follow(url, r.volume(), r.revision()).whenComplete((done, failure) -> {
      List<Run> runs;
      synchronized (this) {
        runs = heldRuns.remove(copy);
        if (runs == null) {
          return; // the peer failed meanwhile: its waiters were failed with it
        }
        if (failure == null) {
          released.addAll(runs);
          notifyAll();
          return;
        }
      }
      String reason = "it could not replace its copy of volume " + r.volume() + " by revision "
          + r.revision() + ": " + failure.getMessage();
      LOG.warn("{} ({}): {}", node, url, reason);
      failVolume(copy, runs.getLast().end(), reason);
    });
  }

  /** Consecutive ranges of one volume as runs of up to {@link #MOST_REQUEST_BYTES} (or one range). */
  static List<Run> runs(List<Range> ranges) {
    List<Run> out = new ArrayList<>();
    int i = 0;
    while (i < ranges.size()) {
      Range first = ranges.get(i);
      List<byte[]> parts = new ArrayList<>();
      parts.add(first.bytes());
      long length = first.bytes().length;
      int j = i + 1;
      while (j < ranges.size() && ranges.get(j).volume() == first.volume()
          && ranges.get(j).revision() == first.revision()
          && ranges.get(j).offset() == first.offset() + length
          && length + ranges.get(j).bytes().length <= MOST_REQUEST_BYTES) {
        parts.add(ranges.get(j).bytes());
        length += ranges.get(j).bytes().length;
        j++;
      }
      out.add(new Run(first.volume(), first.revision(), first.offset(), parts, length));
      i = j;
    }
    return out;
  }

  /** Sends one run, first what the peer lacks before it if that is not too much. */
  private void deliver(Run r) throws IOException, InterruptedException {
    long end = post(r.volume(), r.revision(), r.offset(), r.parts());
    long gapSent = 0;
    while (end < r.offset()) {
      // The peer is behind: send it what it lacks from this node's volume, then the run again.
      if (gapSent > MOST_GAP_BYTES) {
        throw new IOException("it lacks more than " + MOST_GAP_BYTES + " bytes of volume "
            + r.volume() + " (it has " + end + "): it will catch up by itself");
      }
      ByteBuffer lacking;
      try {
        lacking = store.readRecords(r.volume(), r.revision(), end, MOST_REQUEST_BYTES);
      } catch (CopyRevisionException vacuumed) {
        throw new RevisionRefused("this node vacuumed volume " + r.volume() + " meanwhile: "
            + vacuumed.getMessage(), Integer.MAX_VALUE);
      }
      if (lacking == null || !lacking.hasRemaining()) {
        throw new IOException("it has volume " + r.volume() + " up to " + end
            + ", which this node cannot read back");
      }
      byte[] bytes = new byte[lacking.remaining()];
      lacking.get(bytes);
      gapSent += bytes.length;
      end = post(r.volume(), r.revision(), end, List.of(bytes));
      if (end >= r.offset()) {
        end = post(r.volume(), r.revision(), r.offset(), r.parts());
      }
    }
    confirm(copyKey(r.volume(), r.revision()), end);
  }

  /**
   * Posts records at {@code offset}; returns the length of the peer's copy after it: at least
   * {@code offset} plus their length when it took them, less when it is behind (409).
   */
  private long post(int volume, int revision, long offset, List<byte[]> parts)
      throws IOException, InterruptedException {
    PeerChannel.Answer answer = channel.post("/replica/" + volume + "?revision=" + revision
        + "&offset=" + offset, parts, REQUEST_SECONDS * 1000);
    int status = answer.status();
    JsonNode body;
    try {
      body = mapper.readTree(answer.body());
    } catch (IOException e) {
      throw new IOException("answered " + status + " with a body that is not JSON");
    }
    if (status == 200 || status == 409) {
      JsonNode end = body == null ? null : body.get("end");
      if (end != null && end.canConvertToLong()) {
        return end.asLong();
      }
    }
    JsonNode error = body == null ? null : body.get("error");
    if (status == 409 && body != null && body.has("revision")) {
      throw new RevisionRefused("its copy of volume " + volume + " is at revision "
          + body.get("revision").asText() + ", this node's at " + revision, body.get("revision").asInt());
    }
    throw new IOException("answered " + status + (error != null ? ": " + error.asText() : ""));
  }

  /** The peer holds a copy ({@link #copyKey}) up to {@code end}: tells the waiters that it covers. */
  private void confirm(long copy, long end) {
    List<CopyWaiter> done = new ArrayList<>();
    synchronized (this) {
      confirmed.merge(copy, end, Math::max);
      for (Iterator<Waiting> it = waiting.iterator(); it.hasNext(); ) {
        Waiting w = it.next();
        if (w.copy() == copy && w.end() <= end) {
          done.add(w.waiter());
          it.remove();
        }
      }
    }
    done.forEach(CopyWaiter::confirmed);
  }

  /** Fails the waiters of one copy ({@link #copyKey}); the peer stays reachable for the others. */
  private void failVolume(long copy, long end, String why) {
    List<CopyWaiter> failed = new ArrayList<>();
    synchronized (this) {
      refusedEnd.merge(copy, end, Math::max);
      for (Iterator<Waiting> it = waiting.iterator(); it.hasNext(); ) {
        Waiting w = it.next();
        if (w.copy() == copy && w.end() <= end) {
          failed.add(w.waiter());
          it.remove();
        }
      }
    }
    failed.forEach(w -> w.failed(url.toString(), why));
  }

  private void broken(String why) {
    synchronized (this) {
      if (brokenBecause == null || !brokenBecause.equals(why) || !unreachable()) {
        LOG.warn("replication to {} ({}) failed: {}; uploads do not wait for it for {} ms", node, url,
            why, RETRY_AFTER_MILLIS);
      }
      brokenUntil = System.nanoTime() + RETRY_AFTER_MILLIS * 1_000_000;
      brokenBecause = why;
      queue.clear();
      queuedEnd.clear();
      refusedEnd.clear();
      heldRuns.clear();
      released.clear();
      // what it confirmed may be lost if it restarts: ask it again next time
      confirmed.clear();
      failAll(why);
    }
  }

  /** Fails every waiter (caller holds this). */
  private void failAll(String why) {
    List<CopyWaiter> failed = new ArrayList<>();
    for (Waiting w : waiting) {
      failed.add(w.waiter());
    }
    waiting.clear();
    // outside the lock would be nicer; waiters only complete futures, whose callbacks hop threads
    failed.forEach(w -> w.failed(url.toString(), why));
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      queue.clear();
      heldRuns.clear();
      released.clear();
      failAll("this node is stopping");
      notifyAll();
    }
    thread.interrupt();
    channel.close();
  }
}
