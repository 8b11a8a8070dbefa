package dev.wimg.storage.internal;

import dev.wimg.storage.CorruptNeedleException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Vacuum: rewrites the live needles of a sealed volume into a new file and swaps it in.
 *
 * <p>Protocol (run by {@link VacuumScheduler}):
 * <ol>
 *   <li>On the writer thread: the volume is sealed (an active volume first hands over to a new one)
 *       and starts recording the keys deleted from now on.</li>
 *   <li>{@link #copy}, on the vacuum thread, concurrently with reads and with deletes: every key
 *       live in the index is verified (checksum) and its record copied byte for byte, so key,
 *       cookie and checksum (the ETag) are unchanged and fids stay valid; only offsets change.
 *       The copy goes to {@code <g>-<v>.dat.compact} and {@code .idx.compact} with revision + 1,
 *       both fsynced.</li>
 *   <li>{@link #swap}, on the writer thread (so no delete runs meanwhile): tombstones are appended
 *       to the copy for the keys deleted during step 2, the copy is fsynced, then renamed over the
 *       {@code .dat} and then the {@code .idx}, each followed by a folder fsync. The new generation
 *       (files, index, mapping) is published in one volatile write. Readers that still hold the old
 *       generation keep reading the old mapping, which the OS keeps alive after the unlink and the
 *       JVM unmaps when no reader references it.</li>
 * </ol>
 * A crash before the first rename leaves the old volume and {@code .compact} files that the next
 * open deletes; a crash between the renames leaves the new {@code .dat} with the old {@code .idx},
 * whose revision no longer matches, so {@link VolumeLoader} rebuilds the log.
 *
 * <p>Damage. Vacuum never turns a damaged needle into a missing one (a 404 where a repair from a
 * replica could still find the key and restore it):
 * <ul>
 *   <li>A record whose header verifies but whose body does not (record checksum, meta, padding) is
 *       delimited by its header: it is copied byte for byte like any other, with its index entry,
 *       and stays damaged in the new file, where reads keep reporting it as corrupt. It is counted
 *       in the new generation's {@link Volume.Generation#damaged} keys and logged. Such a record may
 *       be the last one of the compacted file.</li>
 *   <li>A record whose header fails, or that is not the needle its index entry names, cannot be
 *       delimited: copying a guess could lose or invent bytes. The vacuum of the volume is then
 *       abandoned ({@link VacuumAbandonedException}): the {@code .compact} files are deleted, the
 *       volume is left as it is (sealed), the key is counted as damaged, and no automatic vacuum
 *       retries it until the store is reopened ({@link Volume#vacuumBlocked}).</li>
 * </ul>
 */
final class VolumeCompactor {

  private static final Logger LOG = LoggerFactory.getLogger(VolumeCompactor.class);

  /** Copy buffer size, bytes. */
  private static final int BUFFER_BYTES = 1 << 20;

  /** A finished copy waiting for its swap. */
  static final class Copy {
    final VolumeFiles files;
    final FileChannel dat;
    final FileChannel idx;
    final NeedleIndex index = new NeedleIndex();
    final int revision;
    long end = Superblock.SIZE;
    long idxEnd = IndexLog.HEADER_SIZE;
    long live;
    /** Tombstones in the copy (a vacuum's copy has none until its swap; a replacement may). */
    long deleted;
    /** Bytes of deleted needles and tombstones in the copy. */
    long garbage;
    /** Keys copied with a body that fails its checks; they join the new generation's damaged set. */
    final LongList damaged = new LongList();

    Copy(VolumeFiles files, FileChannel dat, FileChannel idx, int revision) {
      this.files = files;
      this.dat = dat;
      this.idx = idx;
      this.revision = revision;
    }

    /** Creates (or truncates) the {@code .compact} files of a new revision of {@code files}' volume. */
    static Copy create(VolumeFiles files, int revision) throws IOException {
      FileChannel dat = FileChannel.open(files.compactDat(), StandardOpenOption.CREATE,
          StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileChannel idx;
      try {
        idx = FileChannel.open(files.compactIdx(), StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.READ, StandardOpenOption.WRITE);
      } catch (IOException e) {
        dat.close();
        Files.deleteIfExists(files.compactDat());
        throw e;
      }
      return new Copy(files, dat, idx, revision);
    }

    void discard() {
      try {
        dat.close();
        idx.close();
        Files.deleteIfExists(files.compactDat());
        Files.deleteIfExists(files.compactIdx());
      } catch (IOException e) {
        LOG.warn("could not remove the files of an abandoned vacuum of volume {}", files.volume(), e);
      }
    }
  }

  /**
   * A vacuum that stopped because a live needle's record cannot be delimited; the volume is left as
   * it was. Its message names the volume, the key and the failed check.
   */
  static final class VacuumAbandonedException extends IOException {
    VacuumAbandonedException(String message, CorruptNeedleException cause) {
      super(message, cause);
    }
  }

  private VolumeCompactor() {}

  /** Step 2: copies the live needles of generation {@code g} of volume {@code v}. */
  static Copy copy(VolumeFiles files, Volume v, Volume.Generation g, BooleanSupplier cancelled)
      throws IOException {
    MemorySegment src = g.mapping;
    Superblock old = Superblock.decode(src, files.dat().getFileName().toString());
    int revision = g.revision + 1;
    Copy c = Copy.create(files, revision);
    FileChannel dat = c.dat;
    FileChannel idx = c.idx;
    try {
      IndexLog.writeFully(dat, new Superblock(old.group(), old.volume(), revision, old.created()).encode(), 0);
      IndexLog.writeFully(idx, IndexLog.encodeHeader(revision), 0);
      ByteBuffer out = ByteBuffer.allocateDirect(BUFFER_BYTES);
      ByteBuffer entries = ByteBuffer.allocate(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      CRC32C crc = new CRC32C();
      long keys = g.index.keyLimit();
      long datPos = Superblock.SIZE;
      for (long key = 0; key < keys; key++) {
        if ((key & 1023) == 0 && cancelled.getAsBoolean()) {
          throw new IOException("vacuum of volume " + v.id + " cancelled: store closing");
        }
        int units = g.index.get(key);
        if (units == 0) {
          continue;
        }
        long offset = Integer.toUnsignedLong(units) << NeedleCodec.ALIGNMENT_SHIFT;
        MemorySegment m = g.mapping;
        NeedleHeader h;
        try {
          h = NeedleCodec.decodeHeader(m, offset, m.byteSize(), v.id);
          if (h.key() != key || h.tombstone()) {
            throw new CorruptNeedleException(v.id, offset, "index entry for key " + key
                + " points to a " + (h.tombstone() ? "tombstone" : "needle") + " of key " + h.key());
          }
        } catch (CorruptNeedleException e) {
          g.damaged.add(key);
          throw new VacuumAbandonedException("vacuum of volume " + v.id + " abandoned, volume left as "
              + "it is: the record of key " + key + " cannot be delimited: " + e.getMessage(), e);
        }
        try {
          NeedleCodec.decodeBody(m, offset, h, v.id);
        } catch (CorruptNeedleException e) {
          LOG.error("vacuum of volume {} keeps a damaged needle as it is: {}", v.id, e.getMessage());
          c.damaged.add(key);
        }
        long length = h.recordLength();
        if (out.remaining() < length) {
          datPos = drain(dat, out, datPos);
        }
        if (length > out.capacity()) {
          for (long done = 0; done < length; ) {
            long n = Math.min(1L << 30, length - done);
            ByteBuffer piece = m.asSlice(offset + done, n).asByteBuffer();
            IndexLog.writeFully(dat, piece, c.end + done);
            done += n;
          }
          datPos += length;
        } else {
          out.put(m.asSlice(offset, length).asByteBuffer());
        }
        if (entries.remaining() < IndexLog.ENTRY_SIZE) {
          c.idxEnd = drain(idx, entries, c.idxEnd);
        }
        IndexLog.putEntry(entries, crc, key, c.end >>> NeedleCodec.ALIGNMENT_SHIFT,
            length >>> NeedleCodec.ALIGNMENT_SHIFT, false);
        c.index.set(key, (int) (c.end >>> NeedleCodec.ALIGNMENT_SHIFT));
        c.end += length;
        c.live++;
      }
      drain(dat, out, datPos);
      c.idxEnd = drain(idx, entries, c.idxEnd);
      dat.force(true);
      idx.force(true);
      return c;
    } catch (IOException | RuntimeException e) {
      c.discard();
      throw e;
    }
  }

  private static long drain(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    buf.flip();
    int n = buf.remaining();
    IndexLog.writeFully(ch, buf, position);
    buf.clear();
    return position + n;
  }

  /**
   * Step 3, on the writer thread: applies the deletes recorded during the copy, renames the copy
   * into place and publishes it. Returns the bytes freed. Also swaps in a {@link
   * VolumeReplacement}'s copy (with no deletes meanwhile: a copy takes none of its own).
   */
  static long swap(Volume v, Copy c, LongList deletedMeanwhile) throws IOException {
    MemorySegment map = c.dat.map(FileChannel.MapMode.READ_ONLY, 0, c.end, Arena.ofAuto());
    long deleted = 0;
    long garbage = 0;
    ByteBuffer entries = ByteBuffer.allocate(Math.max(1, deletedMeanwhile.size()) * IndexLog.ENTRY_SIZE)
        .order(ByteOrder.LITTLE_ENDIAN);
    CRC32C crc = new CRC32C();
    for (int i = 0; i < deletedMeanwhile.size(); i++) {
      long key = deletedMeanwhile.get(i);
      int units = c.index.get(key);
      if (units == 0) {
        continue;
      }
      long offset = Integer.toUnsignedLong(units) << NeedleCodec.ALIGNMENT_SHIFT;
      NeedleHeader h = NeedleCodec.decodeHeader(map, offset, c.end, v.id);
      ByteBuffer tomb = NeedleCodec.encodeTombstone(key, h.cookie(), System.currentTimeMillis());
      IndexLog.writeFully(c.dat, tomb, c.end);
      IndexLog.putEntry(entries, crc, key, c.end >>> NeedleCodec.ALIGNMENT_SHIFT,
          h.recordLength() >>> NeedleCodec.ALIGNMENT_SHIFT, true);
      c.index.set(key, 0);
      c.end += NeedleCodec.TOMBSTONE_RECORD_LENGTH;
      c.live--;
      deleted++;
      garbage += h.recordLength() + NeedleCodec.TOMBSTONE_RECORD_LENGTH;
    }
    if (deleted > 0) {
      c.idxEnd = drain(c.idx, entries, c.idxEnd);
      c.dat.force(true);
      c.idx.force(true);
      map = c.dat.map(FileChannel.MapMode.READ_ONLY, 0, c.end, Arena.ofAuto());
    }
    Files.move(c.files.compactDat(), c.files.dat(), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    VolumeFiles.fsyncDirectory(c.files.dir());
    Files.move(c.files.compactIdx(), c.files.idx(), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    VolumeFiles.fsyncDirectory(c.files.dir());
    Volume.Generation old = v.generation();
    long freed = v.fileSize - c.end;
    Volume.Generation swapped = new Volume.Generation(c.dat, c.idx, c.index, c.revision, map);
    swapped.settledEnd = c.end;
    for (int i = 0; i < c.damaged.size(); i++) {
      swapped.damaged.add(c.damaged.get(i));
    }
    // the length before the generation: see LocalStore#readRecords
    v.publishedEnd = c.end;
    v.publish(swapped);
    v.end = c.end;
    v.fileSize = c.end;
    v.idxEnd = c.idxEnd;
    v.liveNeedles = c.live;
    v.deletedNeedles = c.deleted + deleted;
    v.garbageBytes = c.garbage + garbage;
    v.idxBroken = false;
    v.dirty = false;
    try {
      old.closeChannels();
    } catch (IOException e) {
      LOG.warn("{}: closing the pre-vacuum files failed", v, e);
    }
    LOG.info("{} at revision {}: {} live needles ({} of them damaged, kept as they are), {} bytes "
        + "freed", v, c.revision, c.live, c.damaged.size(), freed);
    return freed;
  }
}
