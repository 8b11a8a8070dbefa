package dev.wimg.storage.internal;

import dev.wimg.storage.CorruptNeedleException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;
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
 *       the last record) are verified against the {@code .dat}. The log never names a record before
 *       the {@code .dat} was forced over it ({@link VolumeSyncer}), so an entry whose record is not
 *       there (no valid header of that key, kind and length) is <em>damage</em>: acknowledged data
 *       is missing. The log is trusted up to that entry and the volume is <em>in doubt</em> (rule
 *       7). An entry whose header matches but whose body fails its checksum names a damaged
 *       needle: it stays indexed (reads report it corrupt, never serve it), as in rule 5.</li>
 *   <li>The {@code .dat} is then scanned from the end of the last trusted record: every record that
 *       verifies is added to the index, and the chain goes on after it. A record whose header
 *       verifies but whose body does not is kept as a damaged needle only if another valid header
 *       follows it directly. Where the chain ends, the rest of the file must be zeros
 *       (preallocation). If it is not, the scan <em>looks past the damage</em>: at every 8-byte
 *       boundary (skipping runs of zeros) for a record whose header checksum and record checksum
 *       both verify, and follows the chain again from there. Records found past damage are indexed
 *       (a later one wins a key over an earlier one past the damage, since a record embedded in a
 *       stored file's bytes can only precede the real record of its key), and a tombstone is
 *       applied only if its cookie is the deleted needle's.</li>
 *   <li>The valid end is the end of the last record found. Non-zero bytes after it that hold no
 *       record are the torn tail of the last batch, which was never acknowledged (acknowledgement
 *       waits for the force of every byte before it), if all of this holds: no log entry was
 *       damaged (rule 4), no record was found past the first non-zero byte after the chain, and
 *       the region is at most {@value #MAX_TORN_TAIL_BYTES} bytes (plus the length a verified
 *       header at the valid end announces for its torn record). Then it is overwritten with zeros
 *       and fsynced, so that no stale record can ever reappear behind new ones.</li>
 *   <li>Otherwise the volume is <em>in doubt</em>: bytes that may belong to acknowledged needles
 *       are damaged. Nothing is changed, not a byte of the {@code .dat} nor of the {@code .idx}:
 *       the volume opens read-only (reads go on, for every record found, past the damage too; new
 *       needles go to a new volume), the reason is logged, and {@code wimg verify} reports the
 *       damaged bytes. Each open examines it again.</li>
 * </ol>
 * A volume other than the newest, a full one, and one that was ever vacuumed (revision &gt; 0) is
 * sealed by the store after loading (preallocation cut off). A volume opened read-only by rule 7 is
 * left byte for byte as it is.
 *
 * <p>Creating a volume is atomic (see {@link #create}); a newest {@code .dat} shorter than a
 * superblock, which holds no needle, is what an older build left when it crashed while creating
 * one, and {@link LocalStore} deletes it before loading.
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

  /**
   * Creates a new empty volume. The index log is created first (a log without its {@code .dat} is
   * never read, and the next creation of the same volume truncates it), then the {@code .dat} under
   * a temporary name ({@link VolumeFiles#creatingDat}) with its superblock, fsynced, renamed to its
   * name, and the folder fsynced: a crash leaves either no {@code .dat} or a whole one, and a
   * leftover temporary file is deleted on the next open ({@link LocalStore}).
   */
  public static Volume create(VolumeFiles files, int revision) throws IOException {
    return create(files, new Superblock(files.group(), files.volume(), revision, System.currentTimeMillis()));
  }

  /**
   * As {@link #create(VolumeFiles, int)} with the given superblock: a copy of a peer's volume
   * starts with the very bytes of the original's ({@link BatchStager#stageCopy}).
   */
  static Volume create(VolumeFiles files, Superblock sb) throws IOException {
    int revision = sb.revision();
    FileChannel idx = null;
    FileChannel dat = null;
    boolean renamed = false;
    try {
      idx = FileChannel.open(files.idx(), StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
          StandardOpenOption.READ, StandardOpenOption.WRITE);
      IndexLog.writeFully(idx, IndexLog.encodeHeader(revision), 0);
      idx.force(true);
      Files.deleteIfExists(files.creatingDat());
      dat = FileChannel.open(files.creatingDat(), StandardOpenOption.CREATE_NEW,
          StandardOpenOption.READ, StandardOpenOption.WRITE);
      IndexLog.writeFully(dat, sb.encode(), 0);
      dat.force(true);
      Files.move(files.creatingDat(), files.dat(), StandardCopyOption.ATOMIC_MOVE);
      renamed = true;
      VolumeFiles.fsyncDirectory(files.dir());
      Volume.Generation g = new Volume.Generation(dat, idx, new NeedleIndex(), revision,
          dat.map(FileChannel.MapMode.READ_ONLY, 0, Superblock.SIZE, Arena.ofAuto()));
      Volume v = new Volume(files.volume(), files.dat(), files.idx(), g);
      v.end = Superblock.SIZE;
      v.publishedEnd = v.end;
      g.settledEnd = v.end;
      v.fileSize = Superblock.SIZE;
      v.idxEnd = IndexLog.HEADER_SIZE;
      return v;
    } catch (IOException | RuntimeException e) {
      closeQuietly(dat, e);
      closeQuietly(idx, e);
      if (!renamed) {
        try {
          Files.deleteIfExists(files.creatingDat());
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  private static void closeQuietly(FileChannel ch, Exception failure) {
    if (ch == null) {
      return;
    }
    try {
      ch.close();
    } catch (IOException suppressed) {
      failure.addSuppressed(suppressed);
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
      IndexLog.ReadResult log = readIndex(files, idx, sb.revision(), l);
      scan(l);
      Volume.Generation g = new Volume.Generation(dat, idx, l.index, sb.revision(), map);
      g.damaged.addAll(l.damaged);
      Volume v = new Volume(files.volume(), files.dat(), files.idx(), g);
      v.end = l.end;
      v.publishedEnd = l.end;
      g.settledEnd = v.end;
      v.fileSize = size;
      v.liveNeedles = l.live;
      v.deletedNeedles = l.deleted;
      v.garbageBytes = l.garbage;
      v.nextKey = l.index.keyLimit();
      v.idxEnd = log.validEnd();
      String doubt = doubt(l);
      if (doubt != null) {
        LOG.error("{}: {}; nothing is changed: the volume opens read-only with {} live needle(s), "
            + "run wimg verify", datName, doubt, l.live);
        v.failed = true;
        v.idxBroken = true; // the log stays as it is: each open examines the volume again
        return v;
      }
      if (log.stopReason() != null) {
        LOG.warn("{}: {}; truncating the log there and scanning the volume from offset {}",
            files.idx().getFileName(), log.stopReason(), l.chainStart);
        idx.truncate(log.validEnd());
      }
      if (l.scanned.position() > 0) {
        ByteBuffer entries = l.scanned.flip();
        IndexLog.writeFully(idx, entries, v.idxEnd);
        v.idxEnd += entries.limit();
        idx.force(false);
      }
      clearTornTail(v, l, datName);
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
    /** End of the last record indexed so far: the valid end once loading is done. */
    long end = Superblock.SIZE;
    long live;
    long deleted;
    long garbage;
    /** End of the records the log vouches for: where the scan starts. */
    long chainStart = Superblock.SIZE;
    /** A log entry that passed its checksum named a record that is not there (rule 4), or null. */
    String damagedEntry;
    /** First non-zero byte after the end of a chain that no record accounts for, or -1. */
    long firstUnexplained = -1;
    /** Records found after {@link #firstUnexplained}: found by looking past the damage. */
    long foundPastDamage;
    /** Keys of needles kept whose body fails its checks (reads report them corrupt). */
    final Set<Long> damaged = new HashSet<>();
    /** Length announced by a verified header whose record is torn at the end of the chain, or 0. */
    long tornRecordLength;
    /** Log entries for records found by the scan before any damage, appended to the .idx afterwards. */
    ByteBuffer scanned = ByteBuffer.allocate(64 * IndexLog.ENTRY_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    final CRC32C crc = new CRC32C();

    Loading(int volume, MemorySegment map, long size) {
      this.volume = volume;
      this.map = map;
      this.size = size;
    }

    /** Applies a log entry: a needle or a tombstone; {@code deletedLength} for tombstones. */
    void applyEntry(long key, long offset, long recordLength, boolean tombstone, long deletedLength) {
      if (tombstone) {
        if (index.get(key) != 0) {
          index.set(key, 0);
          live--;
          deleted++;
          garbage += deletedLength;
        }
        garbage += NeedleCodec.TOMBSTONE_RECORD_LENGTH;
      } else {
        indexNeedle(key, offset, recordLength, false);
      }
      end = offset + recordLength;
    }

    /** Indexes a needle; a second one for a key is unreachable garbage unless it replaces. */
    void indexNeedle(long key, long offset, long recordLength, boolean replaces) {
      int units = index.get(key);
      if (units == 0) {
        index.set(key, (int) (offset >>> NeedleCodec.ALIGNMENT_SHIFT));
        live++;
      } else if (replaces) {
        garbage += headerAt(Integer.toUnsignedLong(units) << NeedleCodec.ALIGNMENT_SHIFT) instanceof NeedleHeader h
            ? h.recordLength() : 0;
        index.set(key, (int) (offset >>> NeedleCodec.ALIGNMENT_SHIFT));
      } else {
        garbage += recordLength;
      }
    }

    /** The verified header at {@code offset}, or null if none is there. */
    NeedleHeader headerAt(long offset) {
      try {
        return NeedleCodec.decodeHeader(map, offset, size, volume);
      } catch (CorruptNeedleException e) {
        return null;
      }
    }
  }

  /**
   * Loads the .idx into the index (rules 3 and 4), changing nothing on disk.
   *
   * @return where the trusted entries end in the log, and why reading stopped early (or null)
   */
  private static IndexLog.ReadResult readIndex(VolumeFiles files, FileChannel idx, int revision,
                                               Loading l) throws IOException {
    String name = files.idx().getFileName().toString();
    long trusted = trustedEntries(idx, l);
    long[] count = {0};
    try {
      IndexLog.ReadResult r = IndexLog.read(idx, name, revision, (key, offsetUnits, lengthUnits, tombstone) -> {
        if (count[0]++ == trusted) {
          return false;
        }
        long offset = offsetUnits << NeedleCodec.ALIGNMENT_SHIFT;
        long length = tombstone ? NeedleCodec.TOMBSTONE_RECORD_LENGTH : lengthUnits << NeedleCodec.ALIGNMENT_SHIFT;
        if (offset < l.end || offset + length > l.size || length == 0) {
          if (l.damagedEntry == null) {
            l.damagedEntry = "index entry " + (count[0] - 1) + " names " + length + " bytes at offset "
                + offset + ", outside the volume's " + l.size + " bytes or before the previous record";
          }
          return false;
        }
        l.applyEntry(key, offset, length, tombstone, lengthUnits << NeedleCodec.ALIGNMENT_SHIFT);
        return true;
      });
      l.chainStart = l.end;
      return r;
    } catch (VolumeFormatException e) {
      LOG.warn("{}; rebuilding the index log from the volume", e.getMessage());
      idx.truncate(0);
      IndexLog.writeFully(idx, IndexLog.encodeHeader(revision), 0);
      idx.force(true);
      l.damagedEntry = null;
      return new IndexLog.ReadResult(0, IndexLog.HEADER_SIZE, null);
    }
  }

  /** What a log entry's record looks like in the .dat. */
  private enum EntryCheck { MATCHES, DAMAGED_BODY, MISSING }

  /**
   * Rule 4: walks the log backwards from its last entry, verifying each entry's record against the
   * .dat, until the records lie {@value #TAIL_VERIFY_BYTES} bytes before the end of the last one.
   * Records a missing one in {@link Loading#damagedEntry}.
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
          trusted = lo + i; // a torn entry: IndexLog.read stops there too
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
        switch (check(l, offset, key, length, tombstone)) {
          case MATCHES -> { }
          case DAMAGED_BODY -> {
            LOG.error("volume {}: the needle of key {} at offset {} fails its record checksum; kept, "
                + "reads report it corrupt", l.volume, key, offset);
            if (!tombstone) {
              l.damaged.add(key);
            }
          }
          case MISSING -> {
            trusted = lo + i;
            l.damagedEntry = "index entry " + (lo + i) + " names key " + key + " at offset " + offset
                + ", but no such record is there";
          }
        }
      }
    }
    return trusted;
  }

  private static EntryCheck check(Loading l, long offset, long key, long length, boolean tombstone) {
    if (offset + length > l.size) {
      return EntryCheck.MISSING;
    }
    NeedleHeader h = l.headerAt(offset);
    if (h == null || h.key() != key || h.tombstone() != tombstone || h.recordLength() != length) {
      return EntryCheck.MISSING;
    }
    return bodyVerifies(l, offset, h) ? EntryCheck.MATCHES : EntryCheck.DAMAGED_BODY;
  }

  private static boolean bodyVerifies(Loading l, long offset, NeedleHeader h) {
    try {
      NeedleCodec.decodeBody(l.map, offset, h, l.volume);
      return true;
    } catch (CorruptNeedleException e) {
      return false;
    }
  }

  /** Rule 5: scans the .dat from the end of the trusted log, looking past damage. */
  private static void scan(Loading l) {
    long pos = l.end;
    boolean lookingPastDamage = false;
    while (pos + NeedleCodec.HEADER_SIZE <= l.size) {
      // cheap test first: while looking past damage this runs at every 8-byte boundary
      NeedleHeader h = l.map.get(NeedleCodec.INT, pos) == NeedleCodec.MAGIC ? l.headerAt(pos) : null;
      if (h != null) {
        long length = h.recordLength();
        boolean intact = bodyVerifies(l, pos, h);
        if (intact || (!lookingPastDamage && l.headerAt(pos + length) != null)) {
          if (!intact) {
            LOG.error("volume {}: keeping corrupt record at offset {} (valid records follow)", l.volume, pos);
            if (!h.tombstone()) {
              l.damaged.add(h.key());
            }
          }
          found(l, pos, h);
          pos += length;
          lookingPastDamage = false;
          continue;
        }
        if (!lookingPastDamage && l.firstUnexplained < 0) {
          l.tornRecordLength = length;
        }
      }
      if (!lookingPastDamage) {
        // The chain of records ends here. Zeros to the end of the file are the normal case.
        long next = firstNonZero(l.map, pos, l.size);
        if (next < 0) {
          return;
        }
        if (l.firstUnexplained < 0) {
          l.firstUnexplained = next;
          LOG.info("volume {}: the records end at offset {}, but non-zero bytes follow at {}: "
              + "looking for records past them", l.volume, pos, next);
        }
        lookingPastDamage = true;
        pos = Math.max(pos + NeedleCodec.ALIGNMENT, next & -NeedleCodec.ALIGNMENT);
        continue;
      }
      pos += NeedleCodec.ALIGNMENT;
      if (pos + 8 <= l.size && l.map.get(NeedleCodec.LONG, pos) == 0) {
        long next = firstNonZero(l.map, pos, l.size);
        if (next < 0) {
          return;
        }
        pos = next & -NeedleCodec.ALIGNMENT;
      }
    }
    // fewer bytes than a header are left: a chain that ends here must be followed by zeros too
    if (!lookingPastDamage && l.firstUnexplained < 0) {
      l.firstUnexplained = firstNonZero(l.map, pos, l.size);
    }
  }

  /** Indexes a record the scan found at {@code pos}. */
  private static void found(Loading l, long pos, NeedleHeader h) {
    long length = h.recordLength();
    boolean pastDamage = l.firstUnexplained >= 0;
    if (pastDamage) {
      l.foundPastDamage++;
    }
    long deletedLength = 0;
    if (h.tombstone()) {
      int units = l.index.get(h.key());
      if (units != 0) {
        NeedleHeader deleted = l.headerAt(Integer.toUnsignedLong(units) << NeedleCodec.ALIGNMENT_SHIFT);
        if (deleted == null) {
          LOG.error("volume {}: tombstone at {} deletes a damaged record", l.volume, pos);
        } else if (deleted.cookie() != h.cookie()) {
          // not written by this store's writer, which deletes only by the needle's own cookie
          LOG.error("volume {}: tombstone at {} does not carry the cookie of the needle of key {}; "
              + "ignored", l.volume, pos, h.key());
          l.garbage += length;
          l.end = pos + length;
          return;
        } else {
          deletedLength = deleted.recordLength();
        }
      }
      l.applyEntry(h.key(), pos, length, true, deletedLength);
    } else {
      l.indexNeedle(h.key(), pos, length, pastDamage);
      l.end = pos + length;
    }
    if (pastDamage) {
      return; // not logged: each open examines the damage again (rule 7)
    }
    if (l.scanned.remaining() < IndexLog.ENTRY_SIZE) {
      ByteBuffer bigger = ByteBuffer.allocate(l.scanned.capacity() * 2).order(ByteOrder.LITTLE_ENDIAN);
      l.scanned = bigger.put(l.scanned.flip());
    }
    IndexLog.putEntry(l.scanned, l.crc, h.key(), pos >>> NeedleCodec.ALIGNMENT_SHIFT,
        (h.tombstone() ? deletedLength : length) >>> NeedleCodec.ALIGNMENT_SHIFT, h.tombstone());
  }

  /**
   * Rules 6 and 7: why the volume is in doubt, or null if the bytes after its valid end, if any,
   * are a torn tail that may be cleared.
   */
  private static String doubt(Loading l) {
    if (l.damagedEntry != null) {
      return l.damagedEntry;
    }
    if (l.firstUnexplained < 0) {
      return null;
    }
    if (l.foundPastDamage > 0) {
      return "damaged bytes at offset " + l.firstUnexplained + " with " + l.foundPastDamage
          + " valid record(s) after them";
    }
    long length = lastNonZero(l.map, l.end, l.size) + 1 - l.end;
    if (length > MAX_TORN_TAIL_BYTES + l.tornRecordLength) {
      return length + " non-zero bytes after the last valid record at offset " + l.end
          + ": more than a torn write can leave";
    }
    return null;
  }

  /** Rule 6: zeros the torn tail after the valid end, if there is one. */
  private static void clearTornTail(Volume v, Loading l, String datName) throws IOException {
    long lastNonZero = l.firstUnexplained < 0 ? -1 : lastNonZero(l.map, v.end, v.fileSize);
    if (lastNonZero < 0) {
      return;
    }
    long length = lastNonZero + 1 - v.end;
    LOG.warn("{}: zeroing a torn tail of {} bytes at offset {}", datName, length, v.end);
    FileChannel ch = v.generation().dat;
    ByteBuffer zeros = ByteBuffer.allocateDirect(ZERO_CHUNK);
    for (long p = v.end; p <= lastNonZero; p += ZERO_CHUNK) {
      IndexLog.writeFully(ch, zeros.clear().limit((int) Math.min(ZERO_CHUNK, lastNonZero + 1 - p)), p);
    }
    ch.force(false);
  }

  /** Offset of the first non-zero byte in [from, to), or -1. */
  static long firstNonZero(MemorySegment map, long from, long to) {
    long p = from;
    while (p < to && (p & 7) != 0) {
      if (map.get(ValueLayout.JAVA_BYTE, p) != 0) {
        return p;
      }
      p++;
    }
    while (p + 8 <= to && map.get(ValueLayout.JAVA_LONG_UNALIGNED, p) == 0) {
      p += 8;
    }
    while (p < to) {
      if (map.get(ValueLayout.JAVA_BYTE, p) != 0) {
        return p;
      }
      p++;
    }
    return -1;
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
