package dev.wimg.storage.internal;

import dev.wimg.protocol.Fid;
import dev.wimg.storage.CorruptNeedleException;
import dev.wimg.storage.FsyncPolicy;
import dev.wimg.storage.NewFile;
import dev.wimg.storage.OutOfSpaceException;
import dev.wimg.storage.StoreConfig;
import dev.wimg.storage.VolumeReadException;
import dev.wimg.storage.CopyOffsetException;
import dev.wimg.storage.CopyRevisionException;
import dev.wimg.storage.internal.GroupCommitWriter.CopyOp;
import dev.wimg.storage.internal.GroupCommitWriter.DeleteOp;
import dev.wimg.storage.internal.GroupCommitWriter.Op;
import dev.wimg.storage.internal.GroupCommitWriter.WriteOp;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the writes and deletes of one batch into records appended to their volumes: one {@link
 * AppendBatch} per volume touched, and one {@link Pending} per operation that waits for the
 * batch's fsync. Writer thread only (see {@link GroupCommitWriter}), as is all its state: the
 * staging buffer and the per-batch maps are reused from batch to batch.
 *
 * <p>A batch goes {@link #begin}, then {@link #stageWrite} and {@link #stageDelete} for each
 * operation in queue order, then {@link #finish}. An operation that cannot be staged (a stale or
 * foreign fid, a read-only volume, no room for a new volume) is completed at once and does not
 * wait for the batch. Records are encoded into a reused direct staging buffer and appended to each
 * volume with gathering writes ({@link AppendBatch#flush}), whenever the staging buffer fills up
 * and once at {@link #finish}.
 *
 * <p>Failures. If an append to a volume fails (ENOSPC, I/O error), every operation of the batch on
 * that volume fails with the exception, the volume's logical end stays where the batch started, and
 * the partial bytes are overwritten with zeros ({@link #rollback}); if that also fails the volume
 * drops to read-only ({@link Volume#failed}) and new needles go to a new volume. An extension that
 * fails is truncated back.
 *
 * <p>Preallocation: the {@code .dat} is kept {@link StoreConfig#preallocateBytes()} ahead of the
 * write position ({@link FileSpace#extend}: allocated, not written; it reads as zeros), so that
 * appends do not change the file size and the read mapping is replaced once per step. The mapping
 * is remapped whenever the file grows, before any index slot pointing into the new region is
 * published.
 */
final class BatchStager {

  private static final Logger LOG = LoggerFactory.getLogger(BatchStager.class);

  /** Size of the direct staging buffer that small records are copied into, bytes. */
  private static final int STAGING_BYTES = 4 << 20;
  /** Payloads in direct buffers at least this large are written from the caller's buffer, bytes. */
  private static final int GATHER_DIRECT_MIN = 4 << 10;
  /** Size of the zero buffer used to clear the bytes of failed appends, bytes. */
  private static final int ZERO_CHUNK = 1 << 20;

  /** An operation staged in a batch, waiting for the batch's fsync. */
  record Pending(Op op, AppendBatch batch, long key, int cookie, long offset, long length,
                 int checksum, long size) {}

  /**
   * A {@link CopyOp} staged in a batch: its records, published once the batch is durable, then
   * its future completed with {@code end}.
   */
  record StagedCopy(CopyOp op, AppendBatch batch, List<CopiedRecord> records, long end) {}

  /**
   * One record of a copy: a needle of {@code length} bytes, or a tombstone of the needle whose
   * record was {@code length} bytes (0 if this copy of the volume never held it), as the index log
   * has it; {@code cookie} is the record's (a tombstone's names the file it deleted).
   */
  record CopiedRecord(long key, int cookie, long offset, boolean tombstone, long length) {}

  private final LocalStore store;
  private final StoreConfig config;
  private final VolumeSyncer syncer;
  private final SplittableRandom cookies = new SplittableRandom(new SecureRandom().nextLong());
  private final ByteBuffer staging = ByteBuffer.allocateDirect(STAGING_BYTES).order(ByteOrder.LITTLE_ENDIAN);
  private final ByteBuffer zeros = ByteBuffer.allocateDirect(ZERO_CHUNK);
  private final CRC32C crc = new CRC32C();

  // Per-batch state, writer thread only.
  private final Map<Volume, AppendBatch> appends = new IdentityHashMap<>();
  private final List<Pending> pending = new ArrayList<>();
  private final Set<Long> deletedInBatch = new HashSet<>();
  private final List<Volume> toSeal = new ArrayList<>();
  private final List<StagedCopy> copies = new ArrayList<>();
  /** Record length of each needle a copy staged in this batch, by {@code volume << 32 | key}. */
  private final Map<Long, Long> copiedLengths = new HashMap<>();

  BatchStager(LocalStore store, StoreConfig config, VolumeSyncer syncer) {
    this.store = store;
    this.config = config;
    this.syncer = syncer;
  }

  /** Forgets the previous batch. */
  void begin() {
    appends.clear();
    pending.clear();
    deletedInBatch.clear();
    toSeal.clear();
    copies.clear();
    copiedLengths.clear();
    staging.clear();
  }

  /** The copies of the current batch, in queue order. */
  List<StagedCopy> copies() {
    return copies;
  }

  /** The appends of the current batch, one per volume it touched. */
  Collection<AppendBatch> appends() {
    return appends.values();
  }

  /** The operations of the current batch that wait for its fsync, in queue order. */
  List<Pending> pending() {
    return pending;
  }

  /** Volumes the current batch filled up: marked sealed, to be sealed once the batch is acknowledged. */
  List<Volume> toSeal() {
    return toSeal;
  }

  /**
   * Writes what is still gathered, then settles each volume's append: a failed one is rolled back
   * (the volume's end stays at its start, its index entries are dropped); a written one moves the
   * volume's end and hands its index entries to the {@link VolumeSyncer}, which logs them once
   * forced.
   */
  void finish() {
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
  }

  void stageWrite(WriteOp w) {
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
    int flags = NeedleCodec.flags(name, mime) | (f.manifest() ? NeedleCodec.FLAG_MANIFEST : 0);
    NeedleCodec.putHeader(head, flags, meta, key, cookie, (int) size, f.lastModified());
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

  void stageDelete(DeleteOp d) {
    Fid fid = d.fid();
    Volume v = fid.group() == config.group() ? store.volume(fid.volume()) : null;
    if (v == null) {
      d.future().complete(false);
      return;
    }
    if (v.failed) {
      d.future().completeExceptionally(new IOException(v + " is read-only after an I/O error or "
          + "damage found when it was opened (see the server log)"));
      return;
    }
    int writer = StoreConfig.slotOf(v.id);
    if (writer != config.slot() && writer != 0) {
      // A copy of a peer's volume changes only by the bytes its writer sends (stageCopy), so that
      // every copy stays byte-identical: the delete belongs to the writer.
      d.future().completeExceptionally(new IllegalArgumentException(v + " is written by slot "
          + writer + " of group " + config.group() + ", not by this store (slot " + config.slot()
          + "): delete it there"));
      return;
    }
    NeedleHeader h;
    try {
      h = v.header(fid.key());
    } catch (CorruptNeedleException | VolumeReadException e) {
      d.future().completeExceptionally(e);
      return;
    }
    // A second delete of the same needle in this batch finds it deleted: only the first appends a
    // tombstone. Counted only after the cookie matched, so that a delete with a wrong cookie
    // cannot make the real one in the same batch answer "not found".
    if (h == null || h.cookie() != fid.cookie()
        || !deletedInBatch.add(((long) fid.volume() << 32) | fid.key())) {
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

  /**
   * Stages records copied from the writer of a peer's volume ({@link dev.wimg.storage.Store#copy}):
   * every record is checked (header, checksum, padding) before any byte is staged, so a copy with
   * a bad record appends nothing. Bytes this copy of the volume holds already (a copy sent again
   * after a lost answer) are skipped; a copy that starts past its end fails with {@link
   * CopyOffsetException}. A volume this store does not hold yet is created from the superblock
   * the bytes start with.
   */
  void stageCopy(CopyOp c) {
    int id = c.volume();
    Volume own = StoreConfig.slotOf(id) == config.slot() ? store.volume(id) : null;
    if (StoreConfig.slotOf(id) == config.slot() && (own == null || !own.sealed || own == store.activeVolume())) {
      // A sealed volume of its own takes back a tail a copy holds (see AppendListener); one it
      // appends to, or one it never had, takes nothing.
      c.future().completeExceptionally(new IllegalArgumentException("volume " + id
          + " is this store's own (slot " + config.slot() + ") and not sealed: it takes no copies"));
      return;
    }
    ByteBuffer bytes = c.bytes().duplicate();
    long offset = c.offset();
    Volume v = store.volume(id);
    if (v == null) {
      if (offset != 0) {
        c.future().completeExceptionally(new CopyOffsetException(id, offset, 0));
        return;
      }
      try {
        v = store.createCopy(id, copiedSuperblock(config, id, c.revision(), bytes));
      } catch (IOException e) {
        c.future().completeExceptionally(classified(e));
        return;
      }
      bytes.position(bytes.position() + Superblock.SIZE);
      offset = Superblock.SIZE;
    }
    if (v.failed) {
      c.future().completeExceptionally(new IOException(v + " is read-only after an I/O error or "
          + "damage found when it was opened (see the server log)"));
      return;
    }
    if (v.generation().revision != c.revision()) {
      c.future().completeExceptionally(new CopyRevisionException(id, c.revision(), v.generation().revision));
      return;
    }
    AppendBatch ab = batchFor(v);
    if (ab.failure != null) {
      c.future().completeExceptionally(ab.failure);
      return;
    }
    long end = ab.end;
    if (offset > end) {
      c.future().completeExceptionally(new CopyOffsetException(id, c.offset(), end));
      return;
    }
    if (offset < end) {
      long held = end - offset;
      if (held >= bytes.remaining()) {
        // all held already (perhaps staged in this very batch): answered once the batch is durable
        copies.add(new StagedCopy(c, ab, List.of(), end));
        return;
      }
      bytes.position(bytes.position() + (int) held);
      offset = end;
    }
    List<CopiedRecord> records = new ArrayList<>();
    long limit = offset + bytes.remaining();
    try {
      if (limit > NeedleCodec.MAX_RECORD_OFFSET) {
        throw new OutOfSpaceException(OutOfSpaceException.Reason.FILE_SIZE_LIMIT, v + " cannot "
            + "grow past " + NeedleCodec.MAX_RECORD_OFFSET + " bytes", null);
      }
      MemorySegment seg = MemorySegment.ofBuffer(bytes);
      for (long at = offset; at < limit; ) {
        NeedleHeader h = NeedleCodec.decodeHeaderCopy(seg, offset, at, limit, id);
        NeedleCodec.decodeBodyCopy(seg, offset, at, h, id);
        if (h.tombstone()) {
          records.add(new CopiedRecord(h.key(), h.cookie(), at, true, deletedLength(v, h.key())));
        } else {
          records.add(new CopiedRecord(h.key(), h.cookie(), at, false, h.recordLength()));
          copiedLengths.put(((long) id << 32) | h.key(), h.recordLength());
          v.nextKey = Math.max(v.nextKey, h.key() + 1);
        }
        at += h.recordLength();
      }
    } catch (IOException e) {
      c.future().completeExceptionally(e);
      return;
    }
    for (CopiedRecord r : records) {
      ab.addIndexEntry(r.key(), r.offset(), r.length(), r.tombstone());
    }
    if (bytes.hasRemaining()) {
      ab.gathered.add(bytes);
    }
    ab.end = limit;
    copies.add(new StagedCopy(c, ab, records, limit));
  }

  /**
   * The superblock a copy of a new volume starts with, checked to be of this group, volume and
   * revision (a volume vacuumed before this store first copied it starts at a later revision).
   */
  static Superblock copiedSuperblock(StoreConfig config, int id, int revision, ByteBuffer bytes)
      throws IOException {
    if (bytes.remaining() < Superblock.SIZE) {
      throw new VolumeFormatException("a copy of new volume " + id + " must start with its "
          + Superblock.SIZE + "-byte superblock, got " + bytes.remaining() + " bytes");
    }
    Superblock sb = Superblock.decode(MemorySegment.ofBuffer(bytes.slice(bytes.position(),
        Superblock.SIZE)), "copy of volume " + id);
    if (sb.group() != config.group() || sb.volume() != id || sb.revision() != revision) {
      throw new VolumeFormatException("the copy's superblock names group " + sb.group()
          + ", volume " + sb.volume() + ", revision " + sb.revision() + "; expected group "
          + config.group() + ", volume " + id + ", revision " + revision);
    }
    return sb;
  }

  /** Record length of the needle of {@code key} a copied tombstone deletes, 0 if never held. */
  private long deletedLength(Volume v, long key) {
    Long staged = copiedLengths.get(((long) v.id << 32) | key);
    if (staged != null) {
      return staged;
    }
    try {
      NeedleHeader h = v.header(key);
      return h == null ? 0 : h.recordLength();
    } catch (CorruptNeedleException | VolumeReadException e) {
      return 0; // garbage accounting only: the tombstone itself is what counts
    }
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
    // A copy of a peer's volume grows like the writer's (no step per batch), though it is sealed
    // against new needles of this store.
    boolean growing = !v.sealed || StoreConfig.slotOf(v.id) != config.slot();
    long target = !growing ? needed
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

  /**
   * Zeros the bytes a failed batch may have written (its append or its fsync failed), so that they
   * are not recovered as needles that were never acknowledged. Sets {@link Volume#failed} if that
   * fails too. Touches only this batch's range.
   */
  void rollback(AppendBatch ab) {
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
  static IOException classified(IOException e) {
    OutOfSpaceException full = OutOfSpaceException.of(e);
    return full != null ? full : e;
  }
}
