package dev.wimg.storage.internal;

import dev.wimg.storage.StoreConfig;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides when volumes are vacuumed and runs the vacuums, one at a time, on a background thread;
 * the writer-thread steps of {@link VolumeCompactor} are queued to the writer as tasks.
 *
 * <p>Automatic trigger, checked by the writer after every batch with deletes: the volume's garbage
 * is at least {@link StoreConfig#garbageThreshold()} of its used bytes and at least 1/{@value
 * #LEAST_GARBAGE_FRACTION} of {@link StoreConfig#volumeSizeLimit()} (so that a volume with few live
 * needles left is not rewritten again after every few deletes, and in a cluster copied again to
 * every member), and the volume is sealed,
 * or active and at least half of {@link StoreConfig#volumeSizeLimit()} (vacuuming a small active
 * volume would seal it early and leave many small volumes behind), and no earlier vacuum of it was
 * abandoned over a record it could not delimit ({@link Volume#vacuumBlocked}).
 *
 * <p>In a cluster (a store of slot 1 or more) only the volumes this store writes are vacuumed
 * here, and those of slot 0 (each member's own, never replicated): a copy of a peer's volume
 * follows its writer's vacuum by {@link dev.wimg.storage.Store#replaceCopy} (docs/CLUSTER.md,
 * "Vacuum").
 */
final class VacuumScheduler {

  private static final Logger LOG = LoggerFactory.getLogger(VacuumScheduler.class);

  /** The least garbage worth a vacuum, as a fraction 1/n of the volume size limit. */
  static final int LEAST_GARBAGE_FRACTION = 16;

  private final LocalStore store;
  private final GroupCommitWriter writer;
  private final StoreConfig config;
  private final ExecutorService executor;
  /** Volumes with a vacuum queued or running. */
  private final Set<Integer> scheduled = ConcurrentHashMap.newKeySet();
  private volatile boolean closing;

  VacuumScheduler(LocalStore store, GroupCommitWriter writer, StoreConfig config) {
    this.store = store;
    this.writer = writer;
    this.config = config;
    this.executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "wimg-store-vacuum");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Called by the store's writer thread after published deletes added garbage to {@code v}, and
   * once per volume when the store opens.
   */
  void garbageGrew(Volume v) {
    if (!vacuumedHere(v.id)) {
      return;
    }
    long used = v.end - Superblock.SIZE;
    boolean bigEnough = v.sealed || v.end >= config.volumeSizeLimit() / 2;
    if (closing || v.failed || v.vacuumBlocked || !bigEnough || used <= 0
        || v.garbageBytes < config.garbageThreshold() * used
        || v.garbageBytes < config.volumeSizeLimit() / LEAST_GARBAGE_FRACTION || scheduled.contains(v.id)) {
      return;
    }
    LOG.info("{} has {} garbage bytes of {} used: vacuuming", v, v.garbageBytes, used);
    vacuum(v.id).whenComplete((freed, e) -> {
      if (e != null) {
        LOG.error("automatic vacuum of {} failed", v, e);
      }
    });
  }

  /** Whether this store vacuums volume {@code id}: not when it is a copy of a peer's. */
  private boolean vacuumedHere(int id) {
    int writer = StoreConfig.slotOf(id);
    return writer == 0 || writer == config.slot();
  }

  /** Vacuums volume {@code id}; completes with the bytes freed. */
  CompletableFuture<Long> vacuum(int id) {
    Volume v = store.volume(id);
    if (v == null) {
      return CompletableFuture.failedFuture(new IOException("no volume " + id + " in " + store.dir()));
    }
    if (!vacuumedHere(id)) {
      return CompletableFuture.failedFuture(new IllegalArgumentException(v + " is a copy of the "
          + "volume the member of slot " + StoreConfig.slotOf(id) + " writes: that member vacuums "
          + "it, and this copy follows"));
    }
    if (!scheduled.add(id)) {
      return CompletableFuture.failedFuture(new IOException("volume " + id + " is already being vacuumed"));
    }
    CompletableFuture<Long> result = new CompletableFuture<>();
    try {
      executor.execute(() -> {
        boolean done = false;
        try {
          result.complete(run(v));
          done = true;
        } catch (IOException | RuntimeException e) {
          result.completeExceptionally(e);
        } finally {
          scheduled.remove(id);
        }
        if (done && !closing) {
          // deletes published while it copied are garbage of the new file, and their checks found
          // this vacuum still scheduled: check once more, or that garbage waits for the next delete
          onWriterQuietly(() -> garbageGrew(v));
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      scheduled.remove(id);
      result.completeExceptionally(new IOException("store is closed"));
    }
    return result;
  }

  private long run(Volume v) throws IOException {
    if (closing) {
      throw new IOException("store is closed");
    }
    VolumeFiles files = new VolumeFiles(store.dir(), config.group(), v.id);
    Volume.Generation g = (Volume.Generation) onWriter(() -> {
      if (v.failed) {
        throw new IOException(v + " is read-only after an I/O error; reopen the store to recover it");
      }
      if (!v.sealed) {
        writer.seal(v);
        store.retireActive(v);
      }
      v.deletedDuringVacuum = new LongList();
      return v.generation();
    });
    VolumeCompactor.Copy copy;
    try {
      copy = VolumeCompactor.copy(files, v, g, () -> closing);
    } catch (VolumeCompactor.VacuumAbandonedException e) {
      LOG.error("{}: {}; no automatic vacuum of it until the store is reopened", v, e.getMessage());
      onWriterQuietly(() -> {
        v.deletedDuringVacuum = null;
        v.vacuumBlocked = true;
      });
      throw e;
    } catch (IOException | RuntimeException e) {
      onWriterQuietly(() -> v.deletedDuringVacuum = null);
      throw e;
    }
    return (Long) onWriter(() -> {
      LongList deleted = v.deletedDuringVacuum;
      v.deletedDuringVacuum = null;
      try {
        return VolumeCompactor.swap(v, copy, deleted);
      } catch (IOException | RuntimeException e) {
        LOG.error("{}: vacuum swap failed, volume dropped to read-only until reopened", v, e);
        v.failed = true;
        copy.discard();
        throw e;
      }
    });
  }

  private Object onWriter(GroupCommitWriter.WriterTask task) throws IOException {
    CompletableFuture<Object> f = new CompletableFuture<>();
    writer.submit(new GroupCommitWriter.TaskOp(task, f));
    try {
      return f.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    }
  }

  private void onWriterQuietly(Runnable r) {
    writer.submit(new GroupCommitWriter.TaskOp(() -> {
      r.run();
      return null;
    }, new CompletableFuture<>()));
  }

  /** Stops: a running copy is abandoned at its next check, queued vacuums fail. */
  void close() {
    closing = true;
    executor.shutdown();
    try {
      if (!executor.awaitTermination(1, TimeUnit.MINUTES)) {
        LOG.warn("vacuum did not stop within a minute");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
