package dev.wimg.storage.internal;

import dev.wimg.protocol.Fid;
import dev.wimg.storage.FsyncPolicy;
import dev.wimg.storage.NewFile;
import dev.wimg.storage.StoreConfig;
import dev.wimg.storage.WriteResult;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single writer thread of a store: every append (needles, tombstones), fsync, index publish,
 * file extension, seal and vacuum swap runs here, so volumes need no write locks. This class holds
 * the queue and the loop that ties the parts of a batch together: {@link BatchStager} encodes the
 * batch's records and appends them to their volumes, {@link BatchAcknowledger} forces, publishes
 * and completes them, {@link VolumeSyncer} keeps the durability order of both.
 *
 * <p>Group commit: the thread takes everything queued (up to {@value #MAX_BATCH_OPS} operations or
 * {@value #MAX_BATCH_BYTES} bytes), encodes it into a reused direct staging buffer, appends it to
 * each volume with gathering writes, forces each touched {@code .dat} once ({@link
 * FsyncPolicy#ALWAYS}), appends the batch's index log entries (only now: the log never names bytes
 * that were not forced, see {@link VolumeSyncer}), releases the batch's pages from the page cache
 * ({@link VolumeSyncer#releaseWrittenPages}), and only then publishes the index slots of the batch and completes its
 * futures: on a separate acknowledgement thread so callbacks never stall the writer, or on the
 * executor a write names, such as the event loop that answers its client. So under {@code ALWAYS}
 * a future completes, and a read can find the needle, only after an fsync that began after the
 * needle's bytes were written has returned ({@code INTERVAL} and {@code NEVER} publish at once and
 * fsync later or never). Operations that arrive during an fsync wait in the queue and form the
 * next batch, so the batch grows with the load and the fsync rate stays bounded by the disk. After
 * the acknowledgement the batch seals the volumes it filled up, then runs its {@link TaskOp}s, so
 * that a task never overlaps an append.
 *
 * <p>Implementation note: until 2026-12-02 the fsync ran on a second thread, so that
 * the writer appended batch N+1 while batch N was being forced. That overlap saves only the time to
 * copy one batch into the page cache (a fraction of an fsync), and it cost a thread hand-off per
 * batch. Measured with {@code bench/upload-small.sh}'s load (wrk, c=64, 32 KB uploads, fsync always,
 * on this project's 2-core VM, 2026-12-02, alternating server instances, 2 runs each): pipelined
 * 14.7-17.1 k uploads/s at 48-56 µs of server CPU per upload, on one thread 16.9-21.0 k uploads/s
 * at 36-46 µs. In-process, with no load generator competing for the cores, a 2026-11-25 measurement had
 * seen no difference either way.
 *
 * <p>Failures: an append that fails is rolled back ({@link BatchStager}), an fsync that fails drops
 * its volume to read-only ({@link BatchAcknowledger}); either way the batch's operations on that
 * volume fail with the exception. If the writer thread itself dies of a bug, the store closes and
 * every queued operation fails.
 */
final class GroupCommitWriter {

  private static final Logger LOG = LoggerFactory.getLogger(GroupCommitWriter.class);

  /** Most operations taken into one batch. */
  static final int MAX_BATCH_OPS = 4096;
  /** Most payload bytes taken into one batch (a single larger file is a batch of its own). */
  static final long MAX_BATCH_BYTES = 16L << 20;

  sealed interface Op permits WriteOp, DeleteOp, CopyOp, TaskOp, CloseOp {}

  /** A new needle; {@code completer} completes its future, or null for the acknowledgement thread. */
  record WriteOp(NewFile file, CompletableFuture<WriteResult> future, Executor completer) implements Op {}

  record DeleteOp(Fid fid, CompletableFuture<Boolean> future) implements Op {}

  /**
   * Records copied from revision {@code revision} of a peer's volume, to append at {@code offset};
   * completes with the new end.
   */
  record CopyOp(int volume, int revision, long offset, java.nio.ByteBuffer bytes,
                CompletableFuture<Long> future) implements Op {}

  /** Work that must not overlap any append: runs on the writer thread after a batch is published. */
  @FunctionalInterface
  interface WriterTask {
    Object run() throws IOException;
  }

  record TaskOp(WriterTask task, CompletableFuture<Object> future) implements Op {}

  record CloseOp(CompletableFuture<Void> future) implements Op {}

  private final LocalStore store;
  private final StoreConfig config;
  private final LinkedBlockingQueue<Op> queue = new LinkedBlockingQueue<>();
  private final Object submitLock = new Object();
  /** @GuardedBy("submitLock") for the transition; read without it as a fast path. */
  private volatile boolean closed;
  private final Thread thread;
  private final VolumeSyncer syncer;
  private final BatchStager stager;
  private final BatchAcknowledger acknowledger;
  private final AtomicLong batches = new AtomicLong();
  /** An operation taken from the queue that did not fit the last batch: it opens the next one. */
  private Op carried;

  GroupCommitWriter(LocalStore store, StoreConfig config) {
    this.store = store;
    this.config = config;
    this.syncer = new VolumeSyncer(store, config);
    this.stager = new BatchStager(store, config, syncer);
    this.acknowledger = new BatchAcknowledger(store, config, syncer);
    this.thread = new Thread(this::run, "wimg-store-writer");
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Number of {@code .dat} fsyncs issued for write batches so far. */
  long fsyncs() {
    return syncer.fsyncs();
  }

  /** Number of batches processed so far. */
  long batches() {
    return batches.get();
  }

  /** Queues an operation, or fails its future at once if the store is closed. */
  void submit(Op op) {
    synchronized (submitLock) {
      if (!closed) {
        queue.add(op);
        if (op instanceof CloseOp) {
          closed = true;
        }
        return;
      }
    }
    failClosed(op);
  }

  private static void failClosed(Op op) {
    failWith(op, new IOException("store is closed"));
  }

  boolean closed() {
    return closed;
  }

  private void run() {
    List<Op> batch = new ArrayList<>();
    try {
      while (true) {
        Op first = carried != null ? carried : nextOp();
        carried = null;
        if (first == null) {
          syncer.intervalSync();
          continue;
        }
        batch.clear();
        batch.add(first);
        long bytes = weight(first);
        while (batch.size() < MAX_BATCH_OPS) {
          Op next = queue.poll();
          if (next == null) {
            break;
          }
          long w = weight(next);
          if (bytes + w > MAX_BATCH_BYTES) {
            carried = next;
            break;
          }
          bytes += w;
          batch.add(next);
        }
        if (process(batch)) {
          return;
        }
        if (config.fsyncPolicy() == FsyncPolicy.INTERVAL) {
          syncer.intervalSync();
        }
      }
    } catch (RuntimeException | Error e) {
      LOG.error("storage writer thread died; failing all queued operations", e);
      synchronized (submitLock) {
        closed = true;
      }
      for (Op op : batch) {
        failWith(op, new IOException("storage writer failed: " + e, e));
      }
      throw e;
    } finally {
      if (carried != null) {
        failClosed(carried);
        carried = null;
      }
      Op op;
      while ((op = queue.poll()) != null) {
        failClosed(op);
      }
      acknowledger.shutdown();
    }
  }

  private Op nextOp() {
    try {
      if (config.fsyncPolicy() == FsyncPolicy.INTERVAL) {
        long waitNanos = syncer.nanosUntilIntervalSync();
        return waitNanos <= 0 ? queue.poll() : queue.poll(waitNanos, TimeUnit.NANOSECONDS);
      }
      return queue.take();
    } catch (InterruptedException e) {
      // Nobody interrupts the writer but close(); the queue carries the close request itself.
      return null;
    }
  }

  /**
   * Bytes an operation appends to a volume at most (a write's name and mime are counted at their
   * largest), so that a batch never spans more than {@link #MAX_BATCH_BYTES} plus one record.
   */
  private static long weight(Op op) {
    return switch (op) {
      case WriteOp w -> NeedleCodec.recordLength(NeedleCodec.MAX_META_LENGTH, w.file().size());
      case CopyOp c -> c.bytes().remaining();
      default -> NeedleCodec.TOMBSTONE_RECORD_LENGTH;
    };
  }

  /** Processes one batch; returns true if it held the close request. */
  private boolean process(List<Op> batch) {
    batches.incrementAndGet();
    stager.begin();
    List<TaskOp> tasks = new ArrayList<>();
    CloseOp close = null;
    for (Op op : batch) {
      if (close != null) {
        failClosed(op);
        continue;
      }
      switch (op) {
        case WriteOp w -> stager.stageWrite(w);
        case DeleteOp d -> stager.stageDelete(d);
        case CopyOp c -> stager.stageCopy(c);
        case TaskOp t -> tasks.add(t);
        case CloseOp c -> close = c;
      }
    }
    stager.finish();
    if (!stager.pending().isEmpty() || !stager.copies().isEmpty()) {
      acknowledger.syncAndAcknowledge(stager);
    }
    for (AppendBatch ab : stager.appends()) {
      syncer.forceIfTooManyWaiting(ab.volume);
    }
    for (Volume v : stager.toSeal()) {
      try {
        seal(v);
      } catch (IOException e) {
        LOG.error("{}: sealing failed, volume dropped to read-only", v, e);
        v.failed = true;
      }
    }
    for (TaskOp t : tasks) {
      try {
        t.future().complete(t.task().run());
      } catch (IOException | RuntimeException e) {
        t.future().completeExceptionally(e);
      }
    }
    if (close != null) {
      closeVolumes(close);
      return true;
    }
    return false;
  }

  /** Fails {@code op} with {@code e}; a close request completes normally. */
  static void failWith(Op op, IOException e) {
    switch (op) {
      case WriteOp w -> w.future().completeExceptionally(e);
      case DeleteOp d -> d.future().completeExceptionally(e);
      case CopyOp c -> c.future().completeExceptionally(e);
      case TaskOp t -> t.future().completeExceptionally(e);
      case CloseOp c -> c.future().complete(null);
    }
  }

  /** Cuts the preallocation off a full volume and forces it. Writer thread only. */
  void seal(Volume v) throws IOException {
    v.sealed = true;
    Volume.Generation g = v.generation();
    if (v.fileSize > v.end) {
      g.dat.truncate(v.end);
      v.fileSize = v.end;
      g.remap(v.end);
    }
    syncer.forceAll(v, false);
    syncer.releaseWrittenPages(v, g.settledEnd, v.end); // under fsync interval, what the last interval left
  }

  private void closeVolumes(CloseOp close) {
    IOException failure = null;
    for (Volume v : store.volumes()) {
      Volume.Generation g = v.generation();
      try {
        if (!v.failed) {
          syncer.forceAll(v, true);
        }
      } catch (IOException e) {
        LOG.error("{}: fsync on close failed", v, e);
        failure = e;
      }
      try {
        g.closeChannels();
      } catch (IOException e) {
        failure = e;
      }
    }
    acknowledger.acknowledgeClose(close, failure);
  }
}
