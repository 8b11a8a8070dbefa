package dev.wimg.server.internal.cluster;

import dev.wimg.protocol.Fid;
import dev.wimg.transfer.BulkConnection;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * The one way a storage node fetches a chunk from another node: {@code GET /<chunk fid>} over a
 * {@link BulkConnection} (kept alive per node), its length and SHA-256 checked before any byte is
 * used. A large file's chunk in another group ({@link SpreadChunks}) and a distribution task's
 * piece (from a peer's pinned copy or from the file's group) both come this way; the bytes are
 * hashed as they arrive, from the connection's one direct buffer.
 *
 * <p>Thread-safe: each fetch takes a connection of its own from the pool, or opens one.
 */
public final class ChunkFetch implements AutoCloseable {

  /** Idle connections kept per node. */
  private static final int IDLE_PER_NODE = 4;
  /** An idle connection older than this is closed rather than used (the node closes its own at 30 s). */
  private static final long IDLE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(20);

  private record Idle(BulkConnection connection, long sinceNanos) {}

  /** A fetch that failed, with what the node answered or why no answer came. */
  public static final class FetchException extends IOException {
    private final boolean refused;
    private final int status;

    FetchException(String message, boolean refused, Throwable cause) {
      this(message, refused, 0, cause);
    }

    FetchException(String message, boolean refused, int status, Throwable cause) {
      super(message, cause);
      this.refused = refused;
      this.status = status;
    }

    /** The node's HTTP status when it answered with another than 200, else 0. */
    public int status() {
      return status;
    }

    /** The node answered, but not with the chunk (a status, a wrong length or hash): not a network failure. */
    public boolean refused() {
      return refused;
    }
  }

  private final Duration connectTimeout;
  private final Duration stallTimeout;
  private final dev.wimg.transfer.Throttle throttle;
  private final Map<URI, Deque<Idle>> idle = new ConcurrentHashMap<>();
  /** Connections fetching now: aborted by {@link #close}, so that no fetch outlives it. */
  private final java.util.Set<BulkConnection> busy = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  /**
   * @param stallTimeout how long a fetch may wait for its next bytes before it fails
   */
  public ChunkFetch(Duration connectTimeout, Duration stallTimeout) {
    this(connectTimeout, stallTimeout, null);
  }

  /**
   * As {@link #ChunkFetch(Duration, Duration)}, every fetch's bytes together held to {@code
   * throttle}'s rate (or none when null).
   */
  public ChunkFetch(Duration connectTimeout, Duration stallTimeout, dev.wimg.transfer.Throttle throttle) {
    this.connectTimeout = connectTimeout;
    this.stallTimeout = stallTimeout;
    this.throttle = throttle;
  }

  /**
   * The chunk's bytes from {@code node}.
   *
   * @param headers request headers to send (the task), may be empty
   * @throws FetchException when the node does not answer with exactly these bytes
   * @throws InterruptedIOException when interrupted
   */
  public byte[] fetch(URI node, Fid fid, int size, byte[] sha256, Map<String, String> headers) throws IOException {
    URI origin = URI.create(node.getScheme() + "://" + node.getRawAuthority());
    String[] fields = new String[headers.size() * 2];
    int i = 0;
    for (Map.Entry<String, String> h : headers.entrySet()) {
      fields[i++] = h.getKey();
      fields[i++] = h.getValue();
    }
    BulkConnection c = take(origin);
    try {
      BulkConnection.Response r;
      try {
        if (c == null) {
          c = BulkConnection.open(origin, connectTimeout, stallTimeout);
        }
        busy.add(c);
        if (closed) {
          throw new IOException("closed");
        }
        try {
          r = c.exchange("GET", "/" + fid, fields, null, 0, 0, null);
        } catch (BulkConnection.StaleConnectionException stale) {
          busy.remove(c);
          c.close(); // the node closed it while idle: nothing was answered, ask again on a new one
          c = BulkConnection.open(origin, connectTimeout, stallTimeout);
          busy.add(c);
          r = c.exchange("GET", "/" + fid, fields, null, 0, 0, null);
        }
      } catch (InterruptedIOException e) {
        throw e;
      } catch (IOException e) {
        throw new FetchException(node + ": " + e, false, e);
      }
      if (r.status != 200) {
        throw new FetchException(node + " answered " + r.status, true, r.status, null);
      }
      if (r.remaining != size) {
        throw new FetchException(node + " sends " + r.remaining + " bytes, not " + size, true, null);
      }
      MessageDigest digest = sha256();
      byte[] out = new byte[size];
      int[] at = {0};
      try {
        while (r.read(view -> {
          int n = view.remaining();
          digest.update(view.duplicate());
          view.get(out, at[0], n);
          at[0] += n;
          if (throttle != null) {
            throttle.acquire(n);
          }
        })) {
          // the body, into out
        }
      } catch (InterruptedIOException e) {
        throw e;
      } catch (IOException e) {
        throw new FetchException(node + " broke off after " + at[0] + " of " + size + " bytes: " + e, false, e);
      }
      if (!MessageDigest.isEqual(digest.digest(), sha256)) {
        throw new FetchException(node + " sent bytes whose SHA-256 is not the manifest's", true, null);
      }
      busy.remove(c);
      release(origin, c);
      c = null;
      return out;
    } finally {
      if (c != null) {
        busy.remove(c);
        c.close();
      }
    }
  }

  /** An idle connection to {@code origin} young enough to use, or null; older ones are closed. */
  private BulkConnection take(URI origin) throws IOException {
    Deque<Idle> pool = idle.computeIfAbsent(origin, o -> new ConcurrentLinkedDeque<>());
    for (Idle i; (i = pool.pollFirst()) != null; ) {
      if (System.nanoTime() - i.sinceNanos() < IDLE_NANOS) {
        return i.connection();
      }
      i.connection().close();
    }
    return null;
  }

  private void release(URI origin, BulkConnection c) throws IOException {
    Deque<Idle> pool = idle.computeIfAbsent(origin, o -> new ConcurrentLinkedDeque<>());
    if (closed || !c.reusable() || pool.size() >= IDLE_PER_NODE) {
      c.close();
      return;
    }
    Idle entry = new Idle(c, System.nanoTime());
    pool.offerFirst(entry);
    if (closed && pool.remove(entry)) {
      c.close(); // close() ran meanwhile and missed it
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /** Aborts the fetches under way (they fail at once) and closes the idle connections. */
  @Override
  public void close() {
    closed = true;
    for (BulkConnection c : busy) {
      c.abort();
    }
    for (Deque<Idle> pool : idle.values()) {
      for (Idle i; (i = pool.pollFirst()) != null; ) {
        try {
          i.connection().close();
        } catch (IOException ignored) {
          // closing
        }
      }
    }
  }
}
