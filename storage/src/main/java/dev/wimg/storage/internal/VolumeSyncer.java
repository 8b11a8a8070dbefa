package dev.wimg.storage.internal;

import dev.wimg.storage.FsyncPolicy;
import dev.wimg.storage.StoreConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes appended records durable, in the order that recovery relies on: force the {@code .dat},
 * then append the index log entries of the records that force covered, then release their pages
 * from the page cache. Writer thread only (see {@link GroupCommitWriter}).
 *
 * <p>The rule this class keeps: <b>the {@code .idx} never names a byte of the {@code .dat} that
 * was not forced before the entry was written.</b> The log itself is not forced per batch, so
 * after a power loss it may lack its last entries, or hold a torn one, but every entry that
 * survives names a record that was on disk before the entry existed. A log entry whose record then
 * fails its checks is therefore damage, never a write that did not finish, and {@link
 * VolumeLoader} treats it so. Entries wait in {@link Volume.Generation#unforcedIndexEntries} until
 * their force:
 * <ul>
 *   <li>{@link FsyncPolicy#ALWAYS}: the batch's own fsync, before the batch is acknowledged;</li>
 *   <li>{@link FsyncPolicy#INTERVAL}: the next interval fsync;</li>
 *   <li>{@link FsyncPolicy#NEVER}: a force issued only for the log once {@value
 *       #NEVER_POLICY_MAX_UNFORCED_ENTRIES} entries wait (so that a restart after a crash rescans a
 *       bounded part of the volume), and at seal and close.</li>
 * </ul>
 * A volume whose force fails drops to read-only and its waiting entries are never written: what is
 * on its disk is unknown until the next open scans it.
 */
final class VolumeSyncer {

  private static final Logger LOG = LoggerFactory.getLogger(VolumeSyncer.class);

  /** Under {@link FsyncPolicy#NEVER}, index entries that may wait for a force, entries (1 MiB). */
  static final int NEVER_POLICY_MAX_UNFORCED_ENTRIES = 1 << 16;

  private final LocalStore store;
  private final StoreConfig config;
  private final AtomicLong fsyncs = new AtomicLong();
  /** A failed page-cache release has been logged (it is logged once). */
  private boolean releaseFailureLogged;
  /** When the last interval fsync ran, on {@link StoreConfig#ticker()}. */
  private long lastIntervalSync;

  VolumeSyncer(LocalStore store, StoreConfig config) {
    this.store = store;
    this.config = config;
    this.lastIntervalSync = config.ticker().getAsLong();
  }

  /** Number of {@code .dat} fsyncs issued for write batches so far. */
  long fsyncs() {
    return fsyncs.get();
  }

  /**
   * Queues the index entries of a batch that was written to its volume; they reach the {@code .idx}
   * with the next {@link #force} of that volume.
   */
  void hold(AppendBatch ab) {
    ByteBuffer entries = ab.idxEntries.flip();
    if (!entries.hasRemaining()) {
      return;
    }
    Volume.Generation g = ab.volume.generation();
    ByteBuffer waiting = g.unforcedIndexEntries;
    if (waiting.remaining() < entries.remaining()) {
      int capacity = Math.max(waiting.capacity() * 2, waiting.position() + entries.remaining());
      waiting = ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN).put(waiting.flip());
      g.unforcedIndexEntries = waiting;
    }
    waiting.put(entries);
  }

  /**
   * Under {@link FsyncPolicy#NEVER}, forces {@code v} if too many index entries wait for a force.
   */
  void forceIfTooManyWaiting(Volume v) {
    if (config.fsyncPolicy() == FsyncPolicy.NEVER && !v.failed
        && v.generation().unforcedIndexEntries.position()
            >= NEVER_POLICY_MAX_UNFORCED_ENTRIES * IndexLog.ENTRY_SIZE) {
      try {
        force(v);
      } catch (IOException e) {
        LOG.error("{}: fsync failed, volume dropped to read-only", v, e);
        v.failed = true;
      }
    }
  }

  /**
   * Forces the {@code .dat} of {@code v} (data only, {@code fdatasync}), then appends the index
   * entries that waited for it.
   *
   * @throws IOException if the fsync fails; the waiting entries are then kept back for good
   */
  void force(Volume v) throws IOException {
    Volume.Generation g = v.generation();
    g.dat.force(false);
    fsyncs.incrementAndGet();
    v.dirty = false;
    appendForcedEntries(v, g);
  }

  /**
   * Forces the {@code .dat} with its metadata, appends the waiting entries and forces the
   * {@code .idx} too: at seal and close, after which the pair needs no recovery.
   */
  void forceAll(Volume v, boolean idxMetadata) throws IOException {
    Volume.Generation g = v.generation();
    g.dat.force(true);
    v.dirty = false;
    appendForcedEntries(v, g);
    g.idx.force(idxMetadata);
  }

  private void appendForcedEntries(Volume v, Volume.Generation g) {
    ByteBuffer entries = g.unforcedIndexEntries;
    if (entries.position() == 0) {
      return;
    }
    entries.flip();
    try {
      if (!v.idxBroken) {
        IndexLog.writeFully(g.idx, entries, v.idxEnd);
        v.idxEnd += entries.limit();
      }
    } catch (IOException e) {
      LOG.error("{}: index log append failed; the log stops here and is rebuilt on the next open", v, e);
      v.idxBroken = true;
      try {
        g.idx.truncate(v.idxEnd);
      } catch (IOException suppressed) {
        LOG.error("{}: could not truncate the index log", v, suppressed);
      }
    } finally {
      entries.clear();
    }
  }

  /** Forces the volumes written since the last interval fsync, once the interval has passed. */
  void intervalSync() {
    long now = config.ticker().getAsLong();
    if (now - lastIntervalSync < config.fsyncInterval().toNanos()) {
      return;
    }
    lastIntervalSync = now;
    for (Volume v : store.volumes()) {
      if (v.dirty && !v.failed) {
        try {
          force(v);
          releaseWrittenPages(v, v.generation().settledEnd, v.end);
        } catch (IOException e) {
          LOG.error("{}: background fsync failed, volume dropped to read-only", v, e);
          v.failed = true;
        }
      }
    }
  }

  /** Nanoseconds the writer may wait for work before the next interval fsync is due. */
  long nanosUntilIntervalSync() {
    return config.fsyncInterval().toNanos() - (config.ticker().getAsLong() - lastIntervalSync);
  }

  /**
   * Tells the kernel that the durable bytes {@code [from, to)} of {@code v} will not be read soon,
   * so it frees their page-cache pages (if {@link StoreConfig#releaseWrittenPages()}).
   *
   * <p>Implementation notes: written pages otherwise stay cached until memory runs short, so the
   * page cache fills with what was uploaded rather than with what is read, and every append needs a
   * page the system has not used before. On a virtual machine whose host backs guest memory lazily
   * and takes freed memory back (virtio-balloon free page reporting, as on this project's VMs), a
   * page never used before costs a fault on the host: copying upload bodies into such pages took
   * 60 % of the server's CPU in {@code bench/upload-small.sh} (~70 µs per 32 KB upload; {@code dd}
   * into fresh memory ran at 0.3 GB/s against 3 GB/s into freed memory). Released pages are reused
   * by the next appends instead. The advice never drops dirty pages or pages a reader has mapped
   * in, so it cannot lose data or pull a page from under a read; a file read soon after its upload
   * comes from the disk once. Advice that fails is ignored: it only costs memory.
   */
  void releaseWrittenPages(Volume v, long from, long to) {
    if (!store.releasesWrittenPages() || to <= from) {
      return;
    }
    Libc libc = Libc.INSTANCE.get();
    Volume.Generation g = v.generation();
    String failure;
    try {
      int err = libc.withFd(v.datPath, Libc.O_RDONLY,
          (fd, state) -> libc.fadvise(fd, from, to - from, Libc.POSIX_FADV_DONTNEED));
      failure = err == 0 ? null : "posix_fadvise(DONTNEED) failed with error " + err;
    } catch (IOException | RuntimeException e) {
      failure = e.toString();
    }
    // Snapshots taken from now on vouch for these bytes (see Volume.Generation#settledEnd).
    g.settledEnd = Math.max(g.settledEnd, to);
    if (failure != null && !releaseFailureLogged) {
      releaseFailureLogged = true;
      LOG.warn("{}: could not release written pages from the page cache ({}); they stay cached "
          + "until memory runs short. Logged once.", v, failure);
    }
  }
}
