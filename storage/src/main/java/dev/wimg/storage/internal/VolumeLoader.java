package dev.wimg.storage.internal;

import dev.wimg.storage.CorruptNeedleException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates volumes and opens them after a clean shutdown or a crash.
 *
 * <h2>Recovery rules</h2>
 * <ol>
 *   <li>The {@code .dat} is the source of truth; the {@code .idx} is a cache of it. Leftover
 *       {@code .compact} files of an interrupted vacuum are deleted before this runs (see
 *       {@link LocalStore}); the swap renames the {@code .dat} first, so the pair on disk is either
 *       the old volume or the new {@code .dat}, whose revision then differs from the old
 *       {@code .idx} and rule 3 rebuilds it.</li>
 *   <li>The superblock must be intact, of a readable version, and name the group and volume of
 *       the file name; otherwise opening fails with {@link VolumeFormatException} naming the file
 *       (nothing is changed: {@code wimg verify} tells what is wrong).</li>
 *   <li>The {@code .idx} is trusted entry by entry while each entry passes its checksum and points
 *       inside the {@code .dat}, after the previous entry. Reading stops at the first entry that does
 *       not (a torn or stale tail) and the log is truncated there. A missing {@code .idx}, or one
 *       whose header is damaged or of another revision, is rebuilt from scratch.</li>
 *   <li>The last {@value #TAIL_VERIFY_BYTES} bytes of records covered by the log (and at least
 *       the last record) are verified against the {@code .dat} (header, checksum, key): the log is
 *       written before the batch's fsync completes, so after a power loss its tail may name records
 *       that never reached the disk. The log is cut before the first entry that fails.</li>
 *   <li>The {@code .dat} is then scanned from the end of the last trusted record: every record that
 *       verifies is added to the index and to the log. The scan stops at the first header that is
 *       zero, damaged or runs past the file. A record whose header verifies but whose body does not
 *       is kept in the index (reads report it as corrupt, never serve it) only if another valid
 *       header follows it directly; otherwise it is the torn end of the last write.</li>
 *   <li>The valid end is the end of the last record kept. Bytes after it are preallocation and must
 *       be zero. Non-zero bytes there are the torn tail of writes that were never acknowledged
 *       (an acknowledgement waits for the fsync of every byte before it). If the non-zero region is
 *       at most {@value #MAX_TORN_TAIL_BYTES} bytes (more than one write batch can leave
 *       unsynced, plus the length a verified header at the valid end announces for its torn record)
 *       it is overwritten with zeros and fsynced, so that no stale record can ever reappear
 *       behind new ones. A larger non-zero region is not a torn write but damage: nothing is
 *       changed, the volume is opened read-only and the problem logged.</li>
 * </ol>
 * A volume other than the newest, a full one, and one that was ever vacuumed (revision &gt; 0) is
 * sealed by the store after loading (preallocation cut off). A volume opened read-only by rule 6 is
 * left byte for byte as it is.
 */
public final class VolumeLoader {

  private static final Logger LOG = LoggerFactory.getLogger(VolumeLoader.class);

  /** Bytes of records at the end of the log verified against the .dat on open. */
  public static final long TAIL_VERIFY_BYTES = 16L << 20;
  /** Largest non-zero region after the valid end treated as a torn write and zeroed, bytes. */
  public static final long MAX_TORN_TAIL_BYTES = 64L << 20;
  /** Zero buffer size for clearing a torn tail, bytes. */
  private static final int ZERO_CHUNK = 1 << 20;

  private VolumeLoader() {}

  /** Creates a new empty volume (superblock and index header, both fsynced, folder fsynced). */
  public static Volume create(VolumeFiles files, int revision) throws IOException {
    Superblock sb = new Superblock(files.group(), files.volume(), revision, System.currentTimeMillis());
    FileChannel dat = FileChannel.open(files.dat(), StandardOpenOption.CREATE_NEW,
        StandardOpenOption.READ, StandardOpenOption.WRITE);
    FileChannel idx = null;
    try {
      IndexLog.writeFully(dat, sb.encode(), 0);
      dat.force(true);
      idx = FileChannel.open(files.idx(), StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
          StandardOpenOption.READ, StandardOpenOption.WRITE);
      IndexLog.writeFully(idx, IndexLog.encodeHeader(revision), 0);
      idx.force(true);
      VolumeFiles.fsyncDirectory(files.dir());
      Volume.Generation g = new Volume.Generation(dat, idx, new NeedleIndex(), revision,
          dat.map(FileChannel.MapMode.READ_ONLY, 0, Superblock.SIZE, Arena.ofAuto()));
      Volume v = new Volume(files.volume(), files.dat(), files.idx(), g);
      v.end = Superblock.SIZE;
      g.settledEnd = v.end;
      v.fileSize = Superblock.SIZE;
      v.idxEnd = IndexLog.HEADER_SIZE;
      return v;
    } catch (IOException | RuntimeException e) {
      dat.close();
      if (idx != null) {
        idx.close();
      }
      throw e;
    }
  }

  /** Opens an existing volume, recovering it as described in the class Javadoc. */
  public static Volume open(VolumeFiles files) throws IOException {
    String datName = files.dat().getFileName().toString();
    FileChannel dat = FileChannel.open(files.dat(), StandardOpenOption.READ, StandardOpenOption.WRITE);
    FileChannel idx = null;
    try {
      long size = dat.size();
      MemorySegment map = dat.map(FileChannel.MapMode.READ_ONLY, 0, size, Arena.ofAuto());
      Superblock sb = Superblock.decode(map, datName);
      if (sb.group() != files.group() || sb.volume() != files.volume()) {
        throw new VolumeFormatException(datName + ": superblock names group " + sb.group()
            + " volume " + sb.volume());
      }
      idx = FileChannel.open(files.idx(), StandardOpenOption.CREATE, StandardOpenOption.READ,
          StandardOpenOption.WRITE);
      Loading l = new Loading(files.volume(), map, size);
      long idxEnd = readIndex(files, idx, sb.revision(), l);
      scanTail(l);
      Volume.Generation g = new Volume.Generation(dat, idx, l.index, sb.revision(), map);
      Volume v = new Volume(files.volume(), files.dat(), files.idx(), g);
      v.end = l.end;
      g.settledEnd = v.end;
      v.fileSize = size;
      v.liveNeedles = l.live;
      v.deletedNeedles = l.deleted;
      v.garbageBytes = l.garbage;
      v.nextKey = l.index.keyLimit();
      v.idxEnd = idxEnd;
      if (l.scanned.position() > 0) {
        ByteBuffer entries = l.scanned.flip();
        IndexLog.writeFully(idx, entries, idxEnd);
        v.idxEnd = idxEnd + entries.limit();
        idx.force(false);
      }
      clearTail(v, map, datName, l.tornRecordLength);
      return v;
    } catch (IOException | RuntimeException e) {
      dat.close();
      if (idx != null) {
        idx.close();
      }
      throw e;
    }
  }

  /** State of one volume while loading; single-threaded. */
  private static final class Loading {
    final int volume;
    final MemorySegment map;
    final long size;
    final NeedleIndex index = new NeedleIndex();
    long end = Superblock.SIZE;
    long live;
    long deleted;
    long garbage;
    /** Length announced by a verified header whose record is torn at the end of the scan, or 0. */
    long tornRecordLength;
    /** Log entries for records found by the scan, appended to the .idx afterwards. */
    ByteBuffer scanned = ByteBuffer.allocate(64 * IndexLog.ENTRY_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    final CRC32C crc = new CRC32C();

    Loading(int volume, MemorySegment map, long size) {
      this.volume = volume;
      this.map = map;
      this.size = size;
    }

    /** Applies a needle or tombstone found at {@code offset}; {@code deletedLength} for tombstones. */
    void apply(long key, long offset, long recordLength, boolean tombstone, long deletedLength) {
      if (tombstone) {
        if (index.get(key) != 0) {
          index.set(key, 0);
          live--;
          deleted++;
          garbage += deletedLength;
        }
        garbage += NeedleCodec.TOMBSTONE_RECORD_LENGTH;
        end = offset + NeedleCodec.TOMBSTONE_RECORD_LENGTH;
      } else {
        if (index.get(key) != 0) {
          garbage += recordLength; // a second needle for a key is unreachable: count it as garbage
        } else {
          index.set(key, (int) (offset >>> NeedleCodec.ALIGNMENT_SHIFT));
          live++;
        }
        end = offset + recordLength;
      }
    }
  }

  /** Loads the .idx into the index; returns the offset after its last trusted entry. */
  private static long readIndex(VolumeFiles files, FileChannel idx, int revision, Loading l)
      throws IOException {
    String name = files.idx().getFileName().toString();
    IndexLog.ReadResult r;
    long trusted = trustedEntries(idx, l);
    long[] count = {0};
    try {
      r = IndexLog.read(idx, name, revision, (key, offsetUnits, lengthUnits, tombstone) -> {
        if (count[0]++ == trusted) {
          return false;
        }
        long offset = offsetUnits << NeedleCodec.ALIGNMENT_SHIFT;
        long length = tombstone ? NeedleCodec.TOMBSTONE_RECORD_LENGTH : lengthUnits << NeedleCodec.ALIGNMENT_SHIFT;
        if (offset < l.end || offset + length > l.size || length == 0) {
          return false;
        }
        l.apply(key, offset, length, tombstone, lengthUnits << NeedleCodec.ALIGNMENT_SHIFT);
        return true;
      });
    } catch (VolumeFormatException e) {
      LOG.warn("{}; rebuilding the index log from the volume", e.getMessage());
      idx.truncate(0);
      IndexLog.writeFully(idx, IndexLog.encodeHeader(revision), 0);
      idx.force(true);
      return IndexLog.HEADER_SIZE;
    }
    if (r.stopReason() != null) {
      LOG.warn("{}: {}; truncating the log there and scanning the volume from offset {}", name,
          r.stopReason(), l.end);
      idx.truncate(r.validEnd());
    }
    return r.validEnd();
  }

  /**
   * Rule 4: walks the log backwards from its last entry, verifying each entry's record against the
   * .dat, until the records lie {@value #TAIL_VERIFY_BYTES} bytes before the end of the last one.
   *
   * @return how many entries from the start may be trusted (all, if the tail verifies)
   */
  private static long trustedEntries(FileChannel idx, Loading l) throws IOException {
    long size = idx.size();
    long entries = Math.max(0, (size - IndexLog.HEADER_SIZE) / IndexLog.ENTRY_SIZE);
    long trusted = entries;
    long windowStart = -1;
    int chunkEntries = 4096;
    ByteBuffer buf = ByteBuffer.allocate(chunkEntries * IndexLog.ENTRY_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    CRC32C crc = new CRC32C();
    for (long hi = entries; hi > 0; hi -= chunkEntries) {
      long lo = Math.max(0, hi - chunkEntries);
      int n = (int) (hi - lo);
      buf.clear().limit(n * IndexLog.ENTRY_SIZE);
      IndexLog.readFully(idx, buf, IndexLog.HEADER_SIZE + lo * IndexLog.ENTRY_SIZE);
      for (int i = n - 1; i >= 0; i--) {
        int at = i * IndexLog.ENTRY_SIZE;
        crc.reset();
        crc.update(buf.array(), at, IndexLog.ENTRY_OFF_CRC);
        if (buf.getInt(at + IndexLog.ENTRY_OFF_CRC) != (int) crc.getValue()) {
          trusted = lo + i;
          continue;
        }
        long key = Integer.toUnsignedLong(buf.getInt(at + IndexLog.ENTRY_OFF_KEY));
        long offset = Integer.toUnsignedLong(buf.getInt(at + IndexLog.ENTRY_OFF_OFFSET))
            << NeedleCodec.ALIGNMENT_SHIFT;
        int word = buf.getInt(at + IndexLog.ENTRY_OFF_LENGTH);
        boolean tombstone = (word & IndexLog.TOMBSTONE_BIT) != 0;
        long length = tombstone ? NeedleCodec.TOMBSTONE_RECORD_LENGTH
            : (long) (word & ~IndexLog.TOMBSTONE_BIT) << NeedleCodec.ALIGNMENT_SHIFT;
        if (windowStart < 0) {
          windowStart = offset + length - TAIL_VERIFY_BYTES;
        } else if (offset + length <= windowStart) {
          return trusted;
        }
        if (!recordMatches(l, offset, key, length, tombstone)) {
          trusted = lo + i;
        }
      }
    }
    return trusted;
  }

  private static boolean recordMatches(Loading l, long offset, long key, long length, boolean tombstone) {
    try {
      NeedleHeader h = NeedleCodec.decodeHeader(l.map, offset, l.size, l.volume);
      if (h.key() != key || h.tombstone() != tombstone || h.recordLength() != length) {
        return false;
      }
      NeedleCodec.decodeBody(l.map, offset, h, l.volume);
      return true;
    } catch (CorruptNeedleException e) {
      return false;
    }
  }

  /** Scans records after the last indexed one (rule 5). */
  private static void scanTail(Loading l) {
    long pos = l.end;
    while (true) {
      NeedleHeader h;
      try {
        h = NeedleCodec.decodeHeader(l.map, pos, l.size, l.volume);
      } catch (CorruptNeedleException e) {
        if (!isZeros(l.map, pos, Math.min(l.size, pos + NeedleCodec.HEADER_SIZE))) {
          LOG.info("volume {}: scan stops at offset {}: {}", l.volume, pos, e.getMessage());
        }
        return;
      }
      long length = h.recordLength();
      long deletedLength = 0;
      try {
        NeedleCodec.decodeBody(l.map, pos, h, l.volume);
      } catch (CorruptNeedleException e) {
        if (!validHeaderAt(l, pos + length)) {
          LOG.info("volume {}: torn record at offset {}: {}", l.volume, pos, e.getMessage());
          l.tornRecordLength = length;
          return;
        }
        LOG.error("volume {}: keeping corrupt record at offset {} (valid records follow): {}",
            l.volume, pos, e.getMessage());
      }
      if (h.tombstone()) {
        int units = l.index.get(h.key());
        if (units != 0) {
          try {
            deletedLength = NeedleCodec.decodeHeader(l.map,
                Integer.toUnsignedLong(units) << NeedleCodec.ALIGNMENT_SHIFT, l.size, l.volume).recordLength();
          } catch (CorruptNeedleException e) {
            LOG.error("volume {}: tombstone at {} deletes a damaged record: {}", l.volume, pos, e.getMessage());
          }
        }
      }
      l.apply(h.key(), pos, length, h.tombstone(), deletedLength);
      if (l.scanned.remaining() < IndexLog.ENTRY_SIZE) {
        ByteBuffer bigger = ByteBuffer.allocate(l.scanned.capacity() * 2).order(ByteOrder.LITTLE_ENDIAN);
        l.scanned = bigger.put(l.scanned.flip());
      }
      IndexLog.putEntry(l.scanned, l.crc, h.key(), pos >>> NeedleCodec.ALIGNMENT_SHIFT,
          (h.tombstone() ? deletedLength : length) >>> NeedleCodec.ALIGNMENT_SHIFT, h.tombstone());
      pos += length;
    }
  }

  private static boolean validHeaderAt(Loading l, long pos) {
    try {
      NeedleCodec.decodeHeader(l.map, pos, l.size, l.volume);
      return true;
    } catch (CorruptNeedleException e) {
      return false;
    }
  }

  /** Rule 6: zeros a torn tail after the valid end, or drops the volume to read-only. */
  private static void clearTail(Volume v, MemorySegment map, String datName, long tornRecordLength)
      throws IOException {
    long lastNonZero = lastNonZero(map, v.end, v.fileSize);
    if (lastNonZero < 0) {
      return;
    }
    long length = lastNonZero + 1 - v.end;
    if (length > MAX_TORN_TAIL_BYTES + tornRecordLength) {
      LOG.error("{}: {} non-zero bytes after the last valid record at offset {}: more than a torn "
          + "write can leave; opening the volume read-only, run verify", datName, length, v.end);
      v.failed = true;
      return;
    }
    LOG.warn("{}: zeroing a torn tail of {} bytes at offset {}", datName, length, v.end);
    FileChannel ch = v.generation().dat;
    ByteBuffer zeros = ByteBuffer.allocateDirect(ZERO_CHUNK);
    for (long p = v.end; p <= lastNonZero; p += ZERO_CHUNK) {
      IndexLog.writeFully(ch, zeros.clear().limit((int) Math.min(ZERO_CHUNK, lastNonZero + 1 - p)), p);
    }
    ch.force(false);
  }

  private static boolean isZeros(MemorySegment map, long from, long to) {
    return lastNonZero(map, from, to) < 0;
  }

  /** Offset of the last non-zero byte in [from, to), or -1. */
  static long lastNonZero(MemorySegment map, long from, long to) {
    long p = to;
    while (p - 8 >= from) {
      if (map.get(ValueLayout.JAVA_LONG_UNALIGNED, p - 8) != 0) {
        break;
      }
      p -= 8;
    }
    while (p > from) {
      if (map.get(ValueLayout.JAVA_BYTE, p - 1) != 0) {
        return p - 1;
      }
      p--;
    }
    return -1;
  }
}
