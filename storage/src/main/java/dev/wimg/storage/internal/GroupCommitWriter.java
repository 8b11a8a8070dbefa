package dev.wimg.storage.internal;

import dev.wimg.protocol.Fid;
import dev.wimg.storage.CorruptNeedleException;
import dev.wimg.storage.FsyncPolicy;
import dev.wimg.storage.NewFile;
import dev.wimg.storage.OutOfSpaceException;
import dev.wimg.storage.StoreConfig;
import dev.wimg.storage.VolumeReadException;
import dev.wimg.storage.WriteResult;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single writer thread of a store: every append (needles, tombstones), fsync, index publish,
 * file extension, seal and vacuum swap runs here, so volumes need no write locks.
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
 * next batch, so the batch grows with the load and the fsync rate stays bounded by the disk.
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
 * <p>Failures. If an append to a volume fails (ENOSPC, I/O error), every operation of the batch on
 * that volume fails with the exception, the volume's logical end stays where the batch started, and
 * the partial bytes are overwritten with zeros; if that also fails the volume drops to read-only
 * ({@link Volume#failed}) and new needles go to a new volume. If the fsync fails the volume drops to
 * read-only for good (until reopened): after a failed fsync the kernel may have discarded dirty
 * pages, so what is on disk is unknown until the next open recovers it. The operations of that
 * batch fail and their bytes are zeroed. An extension that fails is truncated back.
 *
 * <p>Preallocation: the {@code .dat} is kept {@link StoreConfig#preallocateBytes()} ahead of the
 * write position ({@link FileSpace#extend}: allocated, not written; it reads as zeros), so that
 * appends do not change the file size and the read mapping is replaced once per step. The mapping
 * is remapped whenever the file grows, before any index slot pointing into the new region is
 * published.
 */
final class GroupCommitWriter {

  private static final Logger LOG = LoggerFactory.getLogger(GroupCommitWriter.class);

  /** Most operations taken into one batch. */
  static final int MAX_BATCH_OPS = 4096;
  /** Most payload bytes taken into one batch (a single larger file is a batch of its own). */
  static final long MAX_BATCH_BYTES = 16L << 20;
  /** Size of the direct staging buffer that small records are copied into, bytes. */
  private static final int STAGING_BYTES = 4 << 20;
  /** Payloads in direct buffers at least this large are written from the caller's buffer, bytes. */
  private static final int GATHER_DIRECT_MIN = 4 << 10;
  /** Size of the zero buffer used to clear the bytes of failed appends, bytes. */
  private static final int ZERO_CHUNK = 1 << 20;

  sealed interface Op permits WriteOp, DeleteOp, TaskOp, CloseOp {}

  /** A new needle; {@code completer} completes its future, or null for the acknowledgement thread. */
  record WriteOp(NewFile file, CompletableFuture<WriteResult> future, Executor completer) implements Op {}

  record DeleteOp(Fid fid, CompletableFuture<Boolean> future) implements Op {}

  /** Work that must not overlap any append: runs on the writer thread after a batch is published. */
  @FunctionalInterface
  interface WriterTask {
    Object run() throws IOException;
  }

  record TaskOp(WriterTask task, CompletableFuture<Object> future) implements Op {}

  record CloseOp(CompletableFuture<Void> future) implements Op {}

  /** An operation staged in a batch, waiting for the batch's fsync. */
  private record Pending(Op op, AppendBatch batch, long key, int cookie, long offset, long length,
                         int checksum, long size) {}

  private final LocalStore store;
  private final StoreConfig config;
  private final LinkedBlockingQueue<Op> queue = new LinkedBlockingQueue<>();
  private final Object submitLock = new Object();
  /** @GuardedBy("submitLock") for the transition; read without it as a fast path. */
  private volatile boolean closed;
  private final Thread thread;
  /** Volumes whose fsync failed, with the failure; read-only until reopened. Writer thread only. */
  private final Map<Volume, IOException> syncFailures = new IdentityHashMap<>();
  private final ExecutorService acks;
  private final SplittableRandom cookies = new SplittableRandom(new SecureRandom().nextLong());
  private final ByteBuffer staging = ByteBuffer.allocateDirect(STAGING_BYTES).order(ByteOrder.LITTLE_ENDIAN);
  private final ByteBuffer zeros = ByteBuffer.allocateDirect(ZERO_CHUNK);
  private final CRC32C crc = new CRC32C();
  private final VolumeSyncer syncer;
  private final AtomicLong batches = new AtomicLong();
  private Op carried;

  // Per-batch state, writer thread only.
  private final Map<Volume, AppendBatch> appends = new IdentityHashMap<>();
  private final List<Pending> pending = new ArrayList<>();
  private final Set<Long> deletedInBatch = new HashSet<>();
  private final List<Volume> toSeal = new ArrayList<>();

  GroupCommitWriter(LocalStore store, StoreConfig config) {
    this.store = store;
    this.config = config;
    this.syncer = new VolumeSyncer(store, config);
    this.acks = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "wimg-store-ack");
      t.setDaemon(true);
      return t;
    });
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
    IOException e = new IOException("store is closed");
    switch (op) {
      case WriteOp w -> w.future().completeExceptionally(e);
      case DeleteOp d -> d.future().completeExceptionally(e);
      case TaskOp t -> t.future().completeExceptionally(e);
      case CloseOp c -> c.future().complete(null);
    }
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
      acks.shutdown();
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
    return op instanceof WriteOp w
        ? NeedleCodec.recordLength(NeedleCodec.MAX_META_LENGTH, w.file().size())
        : NeedleCodec.TOMBSTONE_RECORD_LENGTH;
  }

  /** Processes one batch; returns true if it held the close request. */
  private boolean process(List<Op> batch) {
    batches.incrementAndGet();
    appends.clear();
    pending.clear();
    deletedInBatch.clear();
    toSeal.clear();
    staging.clear();
    List<TaskOp> tasks = new ArrayList<>();
    CloseOp close = null;
    for (Op op : batch) {
      if (close != null) {
        failClosed(op);
        continue;
      }
      switch (op) {
        case WriteOp w -> stageWrite(w);
        case DeleteOp d -> stageDelete(d);
        case TaskOp t -> tasks.add(t);
        case CloseOp c -> close = c;
      }
    }
    flushAll();
    for (AppendBatch ab : appends.values()) {
      if (ab.failure != null) {
        rollback(ab); // the volume's end stays at ab.start; its index entries are dropped
      } else {
        syncer.hold(ab); // logged once forced (VolumeSyncer)
        ab.volume.end = ab.end;
        if (config.fsyncPolicy() != FsyncPolicy.ALWAYS && ab.end > ab.start) {
          ab.volume.dirty = true;
        }
      }
    }
    if (!pending.isEmpty()) {
      syncAndAcknowledge();
    }
    for (AppendBatch ab : appends.values()) {
      syncer.forceIfTooManyWaiting(ab.volume);
    }
    for (Volume v : toSeal) {
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

  private void stageWrite(WriteOp w) {
    NewFile f = w.file();
    byte[] name = f.name() == null ? null : f.name().getBytes(StandardCharsets.UTF_8);
    byte[] mime = f.mime() == null ? null : f.mime().getBytes(StandardCharsets.UTF_8);
    int meta = NeedleCodec.metaLength(name, mime);
    long size = f.size();
    long length = NeedleCodec.recordLength(meta, size);
    AppendBatch ab;
    try {
      ab = batchFor(activeVolumeFor(length));
    } catch (IOException e) {
      LOG.error("cannot open a new volume: {}", e.toString());
      w.future().completeExceptionally(classified(e));
      return;
    }
    if (ab.failure != null) {
      w.future().completeExceptionally(ab.failure);
      return;
    }
    Volume v = ab.volume;
    long key = v.nextKey++;
    int cookie = cookies.nextInt();
    long offset = ab.end;
    crc.reset();
    ByteBuffer head = reserve(NeedleCodec.HEADER_SIZE + meta);
    NeedleCodec.putHeader(head, NeedleCodec.flags(name, mime), meta, key, cookie, (int) size, f.lastModified());
    NeedleCodec.putMeta(head, name, mime);
    gather(ab, head.flip());
    for (ByteBuffer b : f.data()) {
      ByteBuffer d = b.duplicate();
      crc.update(d.duplicate());
      if (d.isDirect() && d.remaining() >= GATHER_DIRECT_MIN) {
        ab.gathered.add(d);
      } else {
        while (d.hasRemaining()) {
          ByteBuffer piece = reserve(Math.min(d.remaining(), STAGING_BYTES));
          int n = piece.remaining();
          piece.put(d.slice(d.position(), n));
          d.position(d.position() + n);
          ab.gathered.add(piece.flip());
        }
      }
    }
    int checksum = (int) crc.getValue();
    ByteBuffer trailer = reserve((int) (length - NeedleCodec.HEADER_SIZE - meta - size));
    NeedleCodec.putTrailer(trailer, checksum, NeedleCodec.HEADER_SIZE + meta + size);
    ab.gathered.add(trailer.flip());
    ab.end += length;
    ab.addIndexEntry(key, offset, length, false);
    pending.add(new Pending(w, ab, key, cookie, offset, length, checksum, size));
  }

  /** Adds a staged piece to the batch, feeding the record checksum. */
  private void gather(AppendBatch ab, ByteBuffer piece) {
    crc.update(piece.duplicate());
    ab.gathered.add(piece);
  }

  /**
   * A slice of the staging buffer of exactly {@code n} bytes (position 0, limit n). When the staging
   * buffer is full, everything gathered so far is written first so that it can be reused.
   */
  private ByteBuffer reserve(int n) {
    if (staging.remaining() < n) {
      flushAll();
      staging.clear();
    }
    ByteBuffer slice = staging.slice(staging.position(), n).order(ByteOrder.LITTLE_ENDIAN);
    staging.position(staging.position() + n);
    return slice;
  }

  private void flushAll() {
    for (AppendBatch ab : appends.values()) {
      if (ab.failure != null || ab.gathered.isEmpty()) {
        ab.gathered.clear();
        continue;
      }
      try {
        long total = 0;
        for (ByteBuffer b : ab.gathered) {
          total += b.remaining();
        }
        ensureCapacity(ab.volume, ab.written + total);
        ab.flush();
      } catch (IOException e) {
        ab.failure = classified(e);
        ab.gathered.clear();
      }
    }
  }

  private void stageDelete(DeleteOp d) {
    Fid fid = d.fid();
    Volume v = fid.group() == config.group() ? store.volume(fid.volume()) : null;
    if (v == null || !deletedInBatch.add(((long) fid.volume() << 32) | fid.key())) {
      d.future().complete(false);
      return;
    }
    if (v.failed) {
      d.future().completeExceptionally(new IOException(v + " is read-only after an I/O error or "
          + "damage found when it was opened (see the server log)"));
      return;
    }
    NeedleHeader h;
    try {
      h = v.header(fid.key());
    } catch (CorruptNeedleException | VolumeReadException e) {
      d.future().completeExceptionally(e);
      return;
    }
    if (h == null || h.cookie() != fid.cookie()) {
      d.future().complete(false);
      return;
    }
    AppendBatch ab = batchFor(v);
    if (ab.failure != null) {
      d.future().completeExceptionally(ab.failure);
      return;
    }
    long offset = ab.end;
    if (offset > NeedleCodec.MAX_RECORD_OFFSET) {
      d.future().completeExceptionally(new OutOfSpaceException(OutOfSpaceException.Reason.FILE_SIZE_LIMIT,
          v + " reached offset " + offset + ", past the " + NeedleCodec.MAX_RECORD_OFFSET
              + " bytes its index can address: the delete cannot be recorded until it is vacuumed", null));
      return;
    }
    ByteBuffer tomb = reserve(NeedleCodec.TOMBSTONE_RECORD_LENGTH);
    tomb.put(NeedleCodec.encodeTombstone(fid.key(), fid.cookie(), System.currentTimeMillis()));
    ab.gathered.add(tomb.flip());
    ab.end += NeedleCodec.TOMBSTONE_RECORD_LENGTH;
    ab.addIndexEntry(fid.key(), offset, h.recordLength(), true);
    pending.add(new Pending(d, ab, fid.key(), fid.cookie(), offset, h.recordLength(), 0, 0));
  }

  private AppendBatch batchFor(Volume v) {
    return appends.computeIfAbsent(v, AppendBatch::new);
  }

  /** The writable volume for a record of {@code length} bytes, rolling over to a new one if needed. */
  private Volume activeVolumeFor(long length) throws IOException {
    Volume v = store.activeVolume();
    if (v != null && !v.readOnly()) {
      AppendBatch ab = appends.get(v);
      long end = ab != null ? ab.end : v.end;
      boolean empty = end == Superblock.SIZE;
      // volumeSizeLimit <= 32 GiB keeps every needle's offset addressable (MAX_RECORD_OFFSET);
      // only tombstones, which sealed volumes still take, can reach past it (see stageDelete)
      if ((empty || end + length <= config.volumeSizeLimit()) && v.nextKey <= Fid.MAX_KEY) {
        return v;
      }
      v.sealed = true;
      toSeal.add(v);
    }
    return store.createVolume();
  }

  private void ensureCapacity(Volume v, long needed) throws IOException {
    if (needed <= v.fileSize) {
      return;
    }
    if (needed > StoreConfig.MAX_VOLUME_SIZE_LIMIT + Integer.MAX_VALUE + (1L << 20)) {
      throw new IOException(v + " cannot grow to " + needed + " bytes");
    }
    long target = v.sealed ? needed
        : Math.max(needed, Math.min(needed + config.preallocateBytes(), config.volumeSizeLimit()));
    FileChannel ch = v.generation().dat;
    long old = v.fileSize;
    try {
      try {
        FileSpace.extend(ch, v.datPath, target);
      } catch (OutOfSpaceException e) {
        if (target == needed) {
          throw e;
        }
        // Less room than a whole step: take just what this batch needs, so that the disk is
        // reported full only when it is.
        target = needed;
        FileSpace.extend(ch, v.datPath, target);
      }
    } catch (IOException e) {
      try {
        ch.truncate(old);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
        v.failed = true;
      }
      throw e;
    }
    v.fileSize = target;
    v.generation().remap(target);
  }

  // ---- fsync, publish, acknowledge (writer thread) ----

  /**
   * Forces the volumes the current batch appended to, releases the pages it wrote, then publishes
   * and completes its operations. A bug before the completions are handed on fails the batch's
   * operations rather than leave their futures waiting.
   */
  private void syncAndAcknowledge() {
    try {
      forceAll().forEach((v, range) -> syncer.releaseWrittenPages(v, range[0], range[1]));
      publishAndAcknowledge();
    } catch (RuntimeException | Error e) {
      LOG.error("storage writer failed while syncing a batch; failing its operations", e);
      IOException io = new IOException("storage writer failed: " + e, e);
      for (Pending p : pending) {
        failWith(p.op(), io);
      }
    }
  }

  /**
   * Forces every volume the current batch appended to once ({@link FsyncPolicy#ALWAYS} only). A
   * volume whose fsync fails is recorded in {@link #syncFailures} for good (until reopened).
   *
   * @return for each volume forced successfully, the byte range {@code [from, to)} the batch
   *     appended, now durable
   */
  private Map<Volume, long[]> forceAll() {
    if (config.fsyncPolicy() != FsyncPolicy.ALWAYS) {
      return Map.of();
    }
    Map<Volume, long[]> appended = new IdentityHashMap<>();
    for (AppendBatch ab : appends.values()) {
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
        syncFailures.put(v, classified(e));
        it.remove();
      }
    }
    return appended;
  }

  private void publishAndAcknowledge() {
    for (AppendBatch ab : appends.values()) {
      IOException e = syncFailures.get(ab.volume);
      if (ab.failure == null && e != null) {
        ab.failure = e;
        rollback(ab);
      }
    }
    // Completions grouped by the executor that runs them: one task per executor and batch.
    Map<Executor, List<Runnable>> completions = new IdentityHashMap<>();
    List<Volume> garbageGrew = new ArrayList<>();
    for (Pending p : pending) {
      AppendBatch ab = p.batch();
      Volume v = ab.volume;
      if (ab.failure != null) {
        IOException e = ab.failure;
        completionsOf(completions, p.op()).add(() -> failWith(p.op(), e));
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

  /** The completions that run on {@code op}'s completer (the acknowledgement thread by default). */
  private List<Runnable> completionsOf(Map<Executor, List<Runnable>> completions, Op op) {
    Executor executor = op instanceof WriteOp w && w.completer() != null ? w.completer() : acks;
    return completions.computeIfAbsent(executor, e -> new ArrayList<>());
  }

  /**
   * Zeros the bytes a failed batch may have written (its append or its fsync failed), so that they
   * are not recovered as needles that were never acknowledged. Sets {@link Volume#failed} if that
   * fails too. Touches only this batch's range.
   */
  private void rollback(AppendBatch ab) {
    Volume v = ab.volume;
    if (ab.failure instanceof OutOfSpaceException) {
      // the operator's to fix, not a fault: one line, no stack trace
      LOG.error("{}: append of {} bytes at offset {} failed: {}", v, ab.end - ab.start, ab.start,
          ab.failure.getMessage());
    } else {
      LOG.error("{}: append of {} bytes at offset {} failed", v, ab.end - ab.start, ab.start, ab.failure);
    }
    try {
      FileChannel ch = v.generation().dat;
      for (long p = ab.start; p < Math.min(ab.written, v.fileSize); p += ZERO_CHUNK) {
        IndexLog.writeFully(ch, zeros.clear().limit((int) Math.min(ZERO_CHUNK, ab.written - p)), p);
      }
    } catch (IOException e) {
      LOG.error("{}: could not clear the failed append; volume dropped to read-only", v, e);
      v.failed = true;
    }
  }

  /** {@code e} as an {@link OutOfSpaceException} if that is what it reports, else itself. */
  private static IOException classified(IOException e) {
    OutOfSpaceException full = OutOfSpaceException.of(e);
    return full != null ? full : e;
  }

  private static void failWith(Op op, IOException e) {
    switch (op) {
      case WriteOp w -> w.future().completeExceptionally(e);
      case DeleteOp d -> d.future().completeExceptionally(e);
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
    IOException f = failure;
    acks.execute(() -> {
      if (f == null) {
        close.future().complete(null);
      } else {
        close.future().completeExceptionally(f);
      }
    });
  }
}
