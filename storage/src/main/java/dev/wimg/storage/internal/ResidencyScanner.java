package dev.wimg.storage.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background thread that keeps each volume's {@link PageResidency} snapshot fresh, so that
 * {@link Volume#isResident} answers event loops without a system call.
 *
 * <p>Implementation notes: one {@code mincore} pass over every mapping per round. The pause
 * between rounds is at least {@value #MIN_INTERVAL_MS} ms and at least
 * {@value #IDLE_FACTOR} times the last round's duration, so the scan costs at most about 1/{@value
 * #IDLE_FACTOR} of a core however much data the node holds (1 GiB of volume is 262,144 pages,
 * scanned in well under a millisecond).
 */
final class ResidencyScanner {

  private static final Logger LOG = LoggerFactory.getLogger(ResidencyScanner.class);

  /** Shortest pause between scans, milliseconds: the staleness bound of a snapshot. */
  static final long MIN_INTERVAL_MS = 200;
  /** Pause between scans as a multiple of the last scan's duration. */
  static final int IDLE_FACTOR = 20;

  private final LocalStore store;
  private final Thread thread;
  private volatile boolean stopped;

  ResidencyScanner(LocalStore store) {
    this.store = store;
    this.thread = new Thread(this::run, "wimg-store-residency");
    this.thread.setDaemon(true);
  }

  void start() {
    if (PageResidency.available()) {
      thread.start();
    } else {
      LOG.info("mincore not available: residency is checked per read");
    }
  }

  /** Scans every volume once now, on the caller's thread. */
  void scanOnce() {
    for (Volume v : store.volumes()) {
      Volume.Generation g = v.generation();
      g.residency = PageResidency.scan(g.mapping);
    }
  }

  private void run() {
    while (!stopped) {
      long start = System.nanoTime();
      try {
        scanOnce();
      } catch (RuntimeException e) {
        LOG.warn("residency scan failed; reads fall back to exact checks", e);
      }
      long took = System.nanoTime() - start;
      long pause = Math.max(TimeUnit.MILLISECONDS.toNanos(MIN_INTERVAL_MS), took * IDLE_FACTOR);
      LockSupport.parkNanos(this, pause);
    }
  }

  void stop() {
    stopped = true;
    LockSupport.unpark(thread);
  }
}
