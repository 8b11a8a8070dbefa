package dev.wimg.storage.internal;

import dev.wimg.protocol.Fid;
import dev.wimg.storage.AppendListener;
import dev.wimg.storage.CopyReplacement;
import dev.wimg.storage.CorruptNeedleException;
import dev.wimg.storage.StoreConfig;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link CopyReplacement}: the writer's vacuumed revision of a peer's volume, copied record by
 * record into the vacuum's {@code .compact} files ({@link VolumeCompactor.Copy}) and swapped in by
 * the vacuum's own swap, so the crash rules are the vacuum's: before the first rename the old copy
 * stands and the {@code .compact} files are deleted at the next open; between the renames the new
 * {@code .dat} and the old {@code .idx} disagree on the revision and the index log is rebuilt.
 *
 * <p>A file live in the old copy that the new revision does not hold (its delete reached the
 * writer while this member was away, and the vacuum dropped both) is reported to the store's
 * {@link AppendListener#deletedByCopy} after the swap, as a copied tombstone would be.
 */
final class VolumeReplacement implements CopyReplacement {

  private static final Logger LOG = LoggerFactory.getLogger(VolumeReplacement.class);

  private final LocalStore store;
  private final GroupCommitWriter writer;
  private final Volume volume;
  private final VolumeCompactor.Copy copy;
  private final Runnable onClose;
  /** Record length, in alignment units, of each needle in the new copy (for tombstones' garbage). */
  private final NeedleIndex lengths = new NeedleIndex();
  private final CRC32C crc = new CRC32C();
  private long length;
  private boolean committed;
  private boolean closed;

  VolumeReplacement(LocalStore store, GroupCommitWriter writer, Volume volume, int revision,
                    Runnable onClose) throws IOException {
    this.store = store;
    this.writer = writer;
    this.volume = volume;
    this.onClose = onClose;
    this.copy = VolumeCompactor.Copy.create(
        new VolumeFiles(store.dir(), store.config().group(), volume.id), revision);
  }

  @Override
  public int volume() {
    return volume.id;
  }

  @Override
  public int revision() {
    return copy.revision;
  }

  @Override
  public long length() {
    return length;
  }

  @Override
  public void append(ByteBuffer records) throws IOException {
    if (committed || closed) {
      throw new IOException("the replacement of " + volume + " is " + (committed ? "committed" : "closed"));
    }
    ByteBuffer bytes = records.duplicate();
    if (length == 0) {
      BatchStager.copiedSuperblock(store.config(), volume.id, copy.revision, bytes);
      IndexLog.writeFully(copy.idx, IndexLog.encodeHeader(copy.revision), 0);
      IndexLog.writeFully(copy.dat, bytes.slice(bytes.position(), Superblock.SIZE), 0);
      bytes.position(bytes.position() + Superblock.SIZE);
      length = Superblock.SIZE;
    }
    long start = length;
    long limit = start + bytes.remaining();
    if (limit > NeedleCodec.MAX_RECORD_OFFSET) {
      throw new IOException(volume + " cannot hold " + limit + " bytes");
    }
    // Every record checked before any is written (Store#copy's rule).
    MemorySegment seg = MemorySegment.ofBuffer(bytes);
    List<NeedleHeader> headers = new ArrayList<>();
    for (long at = start; at < limit; ) {
      NeedleHeader h = NeedleCodec.decodeHeaderCopy(seg, start, at, limit, volume.id);
      NeedleCodec.decodeBodyCopy(seg, start, at, h, volume.id);
      headers.add(h);
      at += h.recordLength();
    }
    ByteBuffer entries = ByteBuffer.allocate(headers.size() * IndexLog.ENTRY_SIZE)
        .order(ByteOrder.LITTLE_ENDIAN);
    long at = start;
    for (NeedleHeader h : headers) {
      long units = at >>> NeedleCodec.ALIGNMENT_SHIFT;
      long recordUnits = h.recordLength() >>> NeedleCodec.ALIGNMENT_SHIFT;
      if (h.tombstone()) {
        int deletedUnits = copy.index.get(h.key()) != 0 ? lengths.get(h.key()) : 0;
        IndexLog.putEntry(entries, crc, h.key(), units, deletedUnits, true);
        if (deletedUnits != 0) {
          copy.index.set(h.key(), 0);
          copy.live--;
          copy.deleted++;
          copy.garbage += ((long) deletedUnits << NeedleCodec.ALIGNMENT_SHIFT)
              + NeedleCodec.TOMBSTONE_RECORD_LENGTH;
        }
      } else {
        IndexLog.putEntry(entries, crc, h.key(), units, recordUnits, false);
        if (copy.index.get(h.key()) == 0) {
          copy.live++;
        }
        copy.index.set(h.key(), (int) units);
        lengths.set(h.key(), (int) recordUnits);
      }
      at += h.recordLength();
    }
    IndexLog.writeFully(copy.dat, bytes, start);
    IndexLog.writeFully(copy.idx, entries.flip(), copy.idxEnd);
    copy.idxEnd += headers.size() * (long) IndexLog.ENTRY_SIZE;
    copy.end = limit;
    length = limit;
  }

  @Override
  public CompletableFuture<Long> commit() {
    if (committed || closed || length == 0) {
      return CompletableFuture.failedFuture(new IOException("the replacement of " + volume + " is "
          + (committed ? "committed" : closed ? "closed" : "empty")));
    }
    try {
      copy.dat.force(true);
      copy.idx.force(true);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
    CompletableFuture<Object> swapped = new CompletableFuture<>();
    List<Fid> gone = new ArrayList<>();
    writer.submit(new GroupCommitWriter.TaskOp(() -> {
      Volume.Generation old = volume.generation();
      if (store.volume(volume.id) != volume || volume.failed || old.revision >= copy.revision) {
        throw new IOException(volume + " changed meanwhile (revision " + old.revision
            + "): the replacement by revision " + copy.revision + " is dropped");
      }
      gone.addAll(filesDropped(old));
      VolumeCompactor.swap(volume, copy, new LongList());
      committed = true;
      return length;
    }, swapped));
    return swapped.handle((end, failure) -> {
      if (failure != null) {
        close();
        throw failure instanceof RuntimeException r ? r : new java.util.concurrent.CompletionException(failure);
      }
      close();
      AppendListener listener = store.appendListener();
      if (listener != null) {
        for (Fid fid : gone) {
          try {
            listener.deletedByCopy(fid);
          } catch (RuntimeException e) {
            LOG.error("the append listener failed on {}, dropped by a replacement", fid, e);
          }
        }
      }
      return (Long) end;
    });
  }

  /** Files live in {@code old} that the new copy does not hold. Writer thread. */
  private List<Fid> filesDropped(Volume.Generation old) {
    List<Fid> gone = new ArrayList<>();
    int group = store.config().group();
    for (long key = 0, keys = old.index.keyLimit(); key < keys; key++) {
      int units = old.index.get(key);
      if (units == 0 || copy.index.get(key) != 0) {
        continue;
      }
      try {
        NeedleHeader h = NeedleCodec.decodeHeader(old.mapping,
            Integer.toUnsignedLong(units) << NeedleCodec.ALIGNMENT_SHIFT, volume.publishedEnd, volume.id);
        gone.add(new Fid(group, volume.id, key, h.cookie()));
      } catch (CorruptNeedleException | InternalError e) {
        // its derived pictures, if any, stay until their cache evicts them
      }
    }
    return gone;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (!committed) {
      copy.discard();
    }
    onClose.run();
  }

  /** For log lines. */
  @Override
  public String toString() {
    return "replacement of " + volume + " by revision " + copy.revision + " (" + length + " bytes so far, slot "
        + StoreConfig.slotOf(volume.id) + ")";
  }
}
