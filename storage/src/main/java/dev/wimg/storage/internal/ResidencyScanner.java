package dev.wimg.storage.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background thread that keeps each volume's {@link PageResidency} snapshot fresh, so that
 * {@link Volume#isResident} answers event loops without a system call.
 *
 * <p>Implementation notes: one {@code mincore} pass per round over the mapping of every volume
 * that was read since the previous round; a volume nobody read loses its snapshot instead (so
 * that no snapshot is ever older than one round), and its next reads make exact checks until the
 * next round scans it. A node that only takes uploads scans nothing. The pause
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

  /** One round: scans the volumes read since the last round, drops the snapshots of the others. */
  private void scanRead() {
    for (Volume v : store.volumes()) {
      Volume.Generation g = v.generation();
      if (g.readSinceScan) {
        g.readSinceScan = false;
        long vouched = store.releasesWrittenPages() ? g.settledEnd : Long.MAX_VALUE;
        g.residency = PageResidency.scan(g.mapping, vouched);
      } else if (g.residency != null) {
        g.residency = null;
      }
    }
  }

  private void run() {
    while (!stopped) {
      long start = System.nanoTime();
      try {
        scanRead();
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
