package dev.wimg.client;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * A client's cached copy of the cluster view, as {@link DirectRoutes}, and the storage nodes that
 * failed a direct request lately.
 *
 * <p>Contract:
 * <ul>
 *   <li>The view is fetched on first use and again once it is {@code ttl} old, or at once after
 *       {@link #invalidate()} (a direct request failed). A fetch that fails (no URL answered, an
 *       answer that is not a view) counts as a fetch: the routes known before are kept (storage
 *       nodes may be up while every tracker is down), or {@link DirectRoutes#NONE} if there were
 *       none, until {@code ttl} has passed again. A single server, which has no view, gets
 *       {@link DirectRoutes#NONE} the same way: it is asked for {@code /cluster} at most once per
 *       {@code ttl}.
 *   <li>A node reported with {@link #nodeFailed} is {@linkplain #recentlyFailed skipped} for
 *       {@code ttl}: the tracker keeps listing a dead node as serving until it misses its
 *       heartbeats, and each direct try of it would cost a connect attempt.
 * </ul>
 *
 * <p>Thread-safe. One thread fetches at a time ({@link #refresh}); while it does, the others use
 * the routes known before, and wait only when there are none yet. The clock is
 * {@link System#nanoTime}-like, given so that a test can move time without sleeping.
 */
final class ClusterCache {

  /** Fetches the view from the client's URLs; empty from a single server. */
  @FunctionalInterface
  interface Fetcher {
    Optional<ClusterView> fetch() throws IOException;
  }

  /**
   * What was fetched last.
   *
   * @param routes    the routes in use
   * @param fetchedAt clock reading of the fetch, nanoseconds
   * @param stale     a direct request failed since: fetch again before the next use
   */
  private record Snapshot(DirectRoutes routes, long fetchedAt, boolean stale) {}

  private final long ttlNanos;
  private final LongSupplier clock;
  private final boolean httpsOnly;
  /** Null until the first fetch ends. Replaced whole, never changed in place. */
  private volatile Snapshot snapshot;
  /** Held by the thread that fetches. */
  private final ReentrantLock refresh = new ReentrantLock();
  /** Node base URL to the clock reading of its last direct failure; entries older than the TTL are dropped. */
  private final ConcurrentMap<URI, Long> failedAt = new ConcurrentHashMap<>();

  /**
   * @param ttlNanos  how long a fetched view is used, nanoseconds; 0 fetches before every use
   * @param clock     monotonic nanoseconds, as {@link System#nanoTime}
   * @param httpsOnly leave out storage nodes with {@code http} URLs (see {@link DirectRoutes})
   */
  ClusterCache(long ttlNanos, LongSupplier clock, boolean httpsOnly) {
    if (ttlNanos < 0) {
      throw new IllegalArgumentException("ttl must be 0 or more nanoseconds, got " + ttlNanos);
    }
    this.ttlNanos = ttlNanos;
    this.clock = clock;
    this.httpsOnly = httpsOnly;
  }

  /**
   * The routes to use now, fetching the view with {@code fetcher} first if the one held is missing,
   * stale or {@code ttl} old (see the class comment).
   *
   * @throws InterruptedIOException if the thread was interrupted while waiting for or during the
   *     first fetch (its flag is kept)
   */
  DirectRoutes routes(Fetcher fetcher) throws InterruptedIOException {
    Snapshot held = snapshot;
    if (held != null && fresh(held)) {
      return held.routes();
    }
    if (held != null) {
      // Someone else is fetching: go on with what is known rather than queue behind them.
      if (!refresh.tryLock()) {
        return held.routes();
      }
    } else {
      try {
        refresh.lockInterruptibly();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for the cluster view");
      }
    }
    try {
      held = snapshot;
      if (held != null && fresh(held)) {
        return held.routes(); // fetched by another thread while this one waited
      }
      return refresh(fetcher, held).routes();
    } finally {
      refresh.unlock();
    }
  }

  private Snapshot refresh(Fetcher fetcher, Snapshot held) throws InterruptedIOException {
    DirectRoutes routes;
    try {
      routes = fetcher.fetch().map(view -> DirectRoutes.of(view, httpsOnly)).orElse(DirectRoutes.NONE);
    } catch (InterruptedIOException e) {
      throw e;
    } catch (IOException e) {
      // No view now: the call goes on through the URL list, which reports what is wrong there.
      routes = held == null ? DirectRoutes.NONE : held.routes();
    }
    Snapshot fetched = new Snapshot(routes, clock.getAsLong(), false);
    snapshot = fetched;
    return fetched;
  }

  /** Stores a view fetched outside {@link #routes} (an explicit {@link WimgClient#cluster()}). */
  void offer(Optional<ClusterView> view) {
    snapshot = new Snapshot(view.map(v -> DirectRoutes.of(v, httpsOnly)).orElse(DirectRoutes.NONE),
        clock.getAsLong(), false);
  }

  /** Makes the next {@link #routes} fetch the view again: a direct request failed. */
  void invalidate() {
    Snapshot held = snapshot;
    if (held != null && !held.stale()) {
      snapshot = new Snapshot(held.routes(), held.fetchedAt(), true);
    }
  }

  /** Records that {@code node} failed a direct request now. */
  void nodeFailed(URI node) {
    long now = clock.getAsLong();
    failedAt.values().removeIf(t -> now - t >= ttlNanos);
    failedAt.put(node, now);
  }

  /** Whether {@code node} failed a direct request less than one TTL ago. */
  boolean recentlyFailed(URI node) {
    Long t = failedAt.get(node);
    return t != null && clock.getAsLong() - t < ttlNanos;
  }

  private boolean fresh(Snapshot s) {
    return !s.stale() && clock.getAsLong() - s.fetchedAt() < ttlNanos;
  }
}
