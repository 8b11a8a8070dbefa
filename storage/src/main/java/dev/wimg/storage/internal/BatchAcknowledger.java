package dev.wimg.storage.internal;

import dev.wimg.protocol.Fid;
import dev.wimg.storage.FsyncPolicy;
import dev.wimg.storage.StoreConfig;
import dev.wimg.storage.WriteResult;
import dev.wimg.storage.AppendListener;
import dev.wimg.storage.internal.BatchStager.CopiedRecord;
import dev.wimg.storage.internal.BatchStager.Pending;
import dev.wimg.storage.internal.BatchStager.StagedCopy;
import dev.wimg.storage.internal.GroupCommitWriter.CloseOp;
import dev.wimg.storage.internal.GroupCommitWriter.DeleteOp;
import dev.wimg.storage.internal.GroupCommitWriter.Op;
import dev.wimg.storage.internal.GroupCommitWriter.WriteOp;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a staged batch durable and answers its operations: forces each volume the batch appended
 * to once ({@link FsyncPolicy#ALWAYS}), releases the pages it wrote ({@link
 * VolumeSyncer#releaseWrittenPages}), and only then publishes the index slots and needle counters
 * of the batch and completes its futures: on a separate acknowledgement thread so callbacks never
 * stall the writer, or on the executor a write names, such as the event loop that answers its
 * client. Its methods run on the writer thread (see {@link GroupCommitWriter}); its state is
 * writer thread only.
 *
 * <p>Failures. If the fsync fails the volume drops to read-only for good (until reopened): after a
 * failed fsync the kernel may have discarded dirty pages, so what is on disk is unknown until the
 * next open recovers it. The operations of that batch on that volume fail and their bytes are
 * zeroed ({@link BatchStager#rollback}); its index entries are never logged ({@link VolumeSyncer}).
 */
final class BatchAcknowledger {

  private static final Logger LOG = LoggerFactory.getLogger(BatchAcknowledger.class);

  private final LocalStore store;
  private final StoreConfig config;
  private final VolumeSyncer syncer;
  /** Runs the completions of operations that name no executor of their own. */
  private final ExecutorService acks;
  /** Volumes whose fsync failed, with the failure; read-only until reopened. Writer thread only. */
  private final Map<Volume, IOException> syncFailures = new IdentityHashMap<>();

  BatchAcknowledger(LocalStore store, StoreConfig config, VolumeSyncer syncer) {
    this.store = store;
    this.config = config;
    this.syncer = syncer;
    this.acks = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "wimg-store-ack");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Forces the volumes the staged batch appended to, releases the pages it wrote, then publishes
   * and completes its operations. A bug before the completions are handed on fails the batch's
   * operations rather than leave their futures waiting.
   */
  void syncAndAcknowledge(BatchStager batch) {
    try {
      // Before the fsync: the copies are made durable by the peers while this store forces its own.
      tellListener(batch);
      Map<Volume, long[]> forced = forceAppended(batch);
      forced.forEach((v, range) -> syncer.releaseWrittenPages(v, range[0], range[1]));
      publishAndAcknowledge(batch);
    } catch (RuntimeException | Error e) {
      LOG.error("storage writer failed while syncing a batch; failing its operations", e);
      IOException io = new IOException("storage writer failed: " + e, e);
      for (Pending p : batch.pending()) {
        GroupCommitWriter.failWith(p.op(), io);
      }
    }
  }

  /**
   * Forces every volume the staged batch appended to once ({@link FsyncPolicy#ALWAYS} only). A
   * volume whose fsync fails is recorded in {@link #syncFailures} for good (until reopened).
   *
   * @return for each volume forced successfully, the byte range {@code [from, to)} the batch
   *     appended, now durable
   */
  private Map<Volume, long[]> forceAppended(BatchStager batch) {
    if (config.fsyncPolicy() != FsyncPolicy.ALWAYS) {
      return Map.of();
    }
    Map<Volume, long[]> appended = new IdentityHashMap<>();
    for (AppendBatch ab : batch.appends()) {
      if (ab.failure == null && ab.end > ab.start && !syncFailures.containsKey(ab.volume)) {
        appended.put(ab.volume, new long[] {ab.start, ab.end});
      }
    }
    for (var it = appended.keySet().iterator(); it.hasNext(); ) {
      Volume v = it.next();
      try {
        syncer.force(v);
      } catch (IOException e) {
        LOG.error("{}: fsync failed, volume dropped to read-only", v, e);
        v.failed = true;
        syncFailures.put(v, BatchStager.classified(e));
        it.remove();
      }
    }
    return appended;
  }

  /**
   * Hands the ranges the batch appended to this store's own volumes to the {@link
   * AppendListener}, once written and before they are forced, so that copies are made durable in
   * parallel with this fsync; no write of them is acknowledged before both. The first range of a
   * new volume is handed from offset 0, its superblock included. A volume whose fsync then fails
   * is read-only for good, so its copies may hold a tail it lost but never a different one.
   */
  private void tellListener(BatchStager batch) {
    AppendListener listener = store.appendListener();
    if (listener == null) {
      return;
    }
    for (AppendBatch ab : batch.appends()) {
      Volume v = ab.volume;
      if (ab.failure != null || ab.end <= ab.start || syncFailures.containsKey(v)
          || StoreConfig.slotOf(v.id) != config.slot()) {
        continue;
      }
      long from = ab.start == Superblock.SIZE ? 0 : ab.start;
      try {
        // Read with pread, not through the mapping: the pages were just written through the
        // channel, and touching them through the mapping costs a page fault each.
        ByteBuffer copy = ByteBuffer.allocate(Math.toIntExact(ab.end - from));
        IndexLog.readFully(v.generation().dat, copy, from);
        listener.appended(v.id, v.generation().revision, from, copy.flip());
      } catch (IOException | RuntimeException e) {
        LOG.error("{}: the append listener failed on [{}, {})", v, from, ab.end, e);
      }
    }
  }

  private void publishAndAcknowledge(BatchStager batch) {
    for (AppendBatch ab : batch.appends()) {
      IOException e = syncFailures.get(ab.volume);
      if (ab.failure == null && e != null) {
        ab.failure = e;
        batch.rollback(ab);
      }
      if (ab.failure == null) {
        ab.volume.publishedEnd = ab.end;
      }
    }
    // Completions grouped by the executor that runs them: one task per executor and batch.
    Map<Executor, List<Runnable>> completions = new IdentityHashMap<>();
    List<Volume> garbageGrew = new ArrayList<>();
    for (Pending p : batch.pending()) {
      AppendBatch ab = p.batch();
      Volume v = ab.volume;
      if (ab.failure != null) {
        IOException e = ab.failure;
        completionsOf(completions, p.op()).add(() -> GroupCommitWriter.failWith(p.op(), e));
        continue;
      }
      NeedleIndex index = v.generation().index;
      switch (p.op()) {
        case WriteOp w -> {
          index.set(p.key(), (int) (p.offset() >>> NeedleCodec.ALIGNMENT_SHIFT));
          v.liveNeedles++;
          WriteResult r = new WriteResult(new Fid(config.group(), v.id, p.key(), p.cookie()), p.size(), p.checksum());
          completionsOf(completions, w).add(() -> w.future().complete(r));
        }
        case DeleteOp d -> {
          index.set(p.key(), 0);
          v.liveNeedles--;
          v.deletedNeedles++;
          v.garbageBytes += p.length() + NeedleCodec.TOMBSTONE_RECORD_LENGTH;
          if (v.deletedDuringVacuum != null) {
            v.deletedDuringVacuum.add(p.key());
          }
          if (!garbageGrew.contains(v)) {
            garbageGrew.add(v);
          }
          completionsOf(completions, d).add(() -> d.future().complete(true));
        }
        default -> throw new IllegalStateException("not an append: " + p.op());
      }
    }
    List<Fid> deletedByCopies = new ArrayList<>();
    for (StagedCopy c : batch.copies()) {
      AppendBatch ab = c.batch();
      if (ab.failure != null) {
        IOException e = ab.failure;
        completionsOf(completions, c.op()).add(() -> c.op().future().completeExceptionally(e));
        continue;
      }
      publishCopy(c, config.group(), deletedByCopies);
      completionsOf(completions, c.op()).add(() -> c.op().future().complete(c.end()));
    }
    AppendListener listener = store.appendListener();
    if (listener != null && !deletedByCopies.isEmpty()) {
      // before the copies' futures complete: whoever waits on a copy finds its deletes told
      completions.computeIfAbsent(acks, e -> new ArrayList<>()).add(0, () -> {
        for (Fid fid : deletedByCopies) {
          try {
            listener.deletedByCopy(fid);
          } catch (RuntimeException e) {
            LOG.error("the append listener failed on the copied delete of {}", fid, e);
          }
        }
      });
    }
    completions.forEach((executor, tasks) -> {
      Runnable all = () -> tasks.forEach(Runnable::run);
      try {
        executor.execute(all);
      } catch (RejectedExecutionException e) {
        acks.execute(all);
      }
    });
    // The completions are handed on: a failure from here on must not fail their operations.
    for (Volume v : garbageGrew) {
      try {
        store.garbageGrew(v);
      } catch (RuntimeException e) {
        LOG.error("{}: could not check whether it needs a vacuum", v, e);
      }
    }
  }

  /**
   * Publishes the index slots and counters of a copy's records, as appends and deletes do; adds
   * the files its tombstones deleted to {@code deleted}.
   */
  private static void publishCopy(StagedCopy c, int group, List<Fid> deleted) {
    Volume v = c.batch().volume;
    NeedleIndex index = v.generation().index;
    for (CopiedRecord r : c.records()) {
      if (!r.tombstone()) {
        index.set(r.key(), (int) (r.offset() >>> NeedleCodec.ALIGNMENT_SHIFT));
        v.liveNeedles++;
      } else if (index.get(r.key()) != 0) {
        deleted.add(new Fid(group, v.id, r.key(), r.cookie()));
        index.set(r.key(), 0);
        v.liveNeedles--;
        v.deletedNeedles++;
        v.garbageBytes += r.length() + NeedleCodec.TOMBSTONE_RECORD_LENGTH;
      }
    }
  }

  /** The completions that run on {@code op}'s completer (the acknowledgement thread by default). */
  private List<Runnable> completionsOf(Map<Executor, List<Runnable>> completions, Op op) {
    Executor executor = op instanceof WriteOp w && w.completer() != null ? w.completer() : acks;
    return completions.computeIfAbsent(executor, e -> new ArrayList<>());
  }

  /** Completes the close request on the acknowledgement thread, with {@code failure} if not null. */
  void acknowledgeClose(CloseOp close, IOException failure) {
    acks.execute(() -> {
      if (failure == null) {
        close.future().complete(null);
      } else {
        close.future().completeExceptionally(failure);
      }
    });
  }

  /** Lets the acknowledgement thread end once it has run the completions handed to it. */
  void shutdown() {
    acks.shutdown();
  }
}
