package dev.wimg.storage.internal;

import dev.wimg.storage.CorruptNeedleException;
import dev.wimg.storage.StoreStats;
import dev.wimg.storage.VolumeReadException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One volume: a {@code .dat} file of needles, its {@code .idx} log, and the in-memory index.
 *
 * <p>Thread-safety. One thread of the store changes a volume: the writer thread (see {@link
 * GroupCommitWriter}) appends, extends, remaps, seals, publishes index slots and updates the needle
 * counters after each fsync, and swaps the generation after a vacuum. The loader and compactor
 * build their objects before publishing them. Readers take {@link #generation()} once (a volatile read) and then use that generation's index
 * and mapping together, so a vacuum swap can never pair a new index with an old file. Counters are
 * volatile for {@code stats()}, with one writing thread (so read-modify-write without locks is
 * safe). {@link #readErrors} is the exception: reader threads count it, hence atomic.
 *
 * <p>Read faults. A read whose mapped pages cannot be provided (a disk read error, or the file cut
 * short behind the store's back) throws {@link VolumeReadException} and counts one
 * {@link #readErrors}; a volume with any is reported as needing a check until the store is
 * reopened. The volume stays readable: other needles, on other pages, may be intact.
 */
public final class Volume {

  /**
   * The files, index and mapping of one revision of a volume. A vacuum produces a new generation;
   * the old one stays readable for as long as readers hold it (its mapping is freed by GC through
   * {@link Arena#ofAuto()}).
   */
  static final class Generation {
    final FileChannel dat;
    final FileChannel idx;
    final NeedleIndex index;
    final int revision;
    /** Covers the whole .dat file (preallocation included); replaced when the file grows. */
    volatile MemorySegment mapping;
    /**
     * A read-only buffer over {@link #mapping} from offset 0, or null when the mapping is larger
     * than a buffer can be. Written before {@link #mapping}, both before any index slot pointing
     * into the new region is published; a reader may still pair it with another mapping of the
     * same file, so {@link NeedleCodec#decodeBody} checks its capacity.
     */
    volatile ByteBuffer view;
    /**
     * Which pages of a mapping of this file were resident at the last scan, or null before the
     * first. Written by the {@link ResidencyScanner}; it names the mapping it was taken of, so a
     * snapshot of an older mapping answers "unknown".
     */
    volatile PageResidency residency;
    /**
     * A read asked for residency since the last scan. Plain field, set only when it is false, so a
     * busy volume's cache line stays shared: a lost or late write at worst skips one scan, after
     * which the snapshot is dropped and reads make exact checks until the next scan.
     */
    boolean readSinceScan;
    /**
     * Offset below which the writer will release no more pages from the page cache ({@link
     * VolumeSyncer#releaseWrittenPages}): it releases appended ranges in append order, each
     * once, and then moves this to the range's end. A residency snapshot vouches only for bytes
     * below the value read when its scan began, since pages past it may be dropped after the scan.
     * Writer thread only (the loader and compactor set it before publishing).
     */
    volatile long settledEnd;
    /**
     * Index log entries of records appended to this generation but not yet forced to disk; {@link
     * VolumeSyncer} writes them to the {@code .idx} after the force, so that the log never names
     * bytes that were not durable. Writer thread only.
     */
    ByteBuffer unforcedIndexEntries = ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
    /**
     * Keys of this generation whose needle failed a check: added by a read that found it (on that
     * failure only, so reads that succeed pay nothing) and, before publishing, by the vacuum that
     * copied it as it is. Deleted keys stay in the set and are not counted by {@link #stats}.
     */
    final Set<Long> damaged = ConcurrentHashMap.newKeySet();

    Generation(FileChannel dat, FileChannel idx, NeedleIndex index, int revision, MemorySegment mapping) {
      this.dat = dat;
      this.idx = idx;
      this.index = index;
      this.revision = revision;
      this.view = viewOf(mapping);
      this.mapping = mapping;
    }

    void remap(long size) throws IOException {
      MemorySegment m = dat.map(FileChannel.MapMode.READ_ONLY, 0, size, Arena.ofAuto());
      view = viewOf(m);
      mapping = m;
    }

    private static ByteBuffer viewOf(MemorySegment m) {
      if (m.byteSize() > Integer.MAX_VALUE) {
        return null;
      }
      ByteBuffer b = m.asByteBuffer();
      return b.isReadOnly() ? b : b.asReadOnlyBuffer();
    }

    void closeChannels() throws IOException {
      try {
        dat.close();
      } finally {
        idx.close();
      }
    }
  }

  final int id;
  final Path datPath;
  final Path idxPath;
  private volatile Generation generation;

  // Written by the writer thread only (see class Javadoc); volatile for readers of stats.
  /** Offset after the last valid record: where the next append goes. */
  volatile long end;
  /**
   * Offset up to which records are durable and published: what {@link LocalStore#readRecords}
   * hands to a peer. Written by the writer thread after each batch's fsync (and by the loader and
   * compactor before publishing).
   */
  volatile long publishedEnd;
  /** Size of the .dat file including preallocated zeros. */
  volatile long fileSize;
  /** Offset in the .idx after the last written entry. */
  volatile long idxEnd;
  volatile long liveNeedles;
  volatile long deletedNeedles;
  volatile long garbageBytes;
  /** No new needles (full, or being vacuumed); tombstones are still appended. */
  volatile boolean sealed;
  /**
   * A vacuum found a live needle whose record it cannot delimit (damaged header, or an index entry
   * naming another record) and left the volume as it is: no automatic vacuum until reopened.
   * Writer thread only.
   */
  volatile boolean vacuumBlocked;
  /** Dropped to read-only after an I/O error: no appends at all until reopened. */
  volatile boolean failed;
  /** An .idx append failed: no more entries are written; the next open rebuilds from the .dat. */
  volatile boolean idxBroken;
  /** Written since the last fsync (INTERVAL and NEVER policies). */
  boolean dirty;
  /** Reads that failed because the mapped file could not be read (see class notes). */
  private final AtomicLong readErrors = new AtomicLong();
  /** Next key to assign. Writer thread only. */
  long nextKey;
  /** Set while a vacuum copies this volume; keys deleted meanwhile. Writer thread only. */
  LongList deletedDuringVacuum;

  Volume(int id, Path datPath, Path idxPath, Generation generation) {
    this.id = id;
    this.datPath = datPath;
    this.idxPath = idxPath;
    this.generation = generation;
  }

  public int id() {
    return id;
  }

  Generation generation() {
    return generation;
  }

  /** Publishes a new generation (vacuum swap). Writer thread only. */
  void publish(Generation g) {
    generation = g;
  }

  /**
   * Reads the needle of {@code key} if it is live and its cookie matches.
   *
   * @return null if absent, deleted or the cookie differs
   * @throws CorruptNeedleException if the record under the index entry fails any check
   * @throws VolumeReadException if the record's pages cannot be read
   */
  Needle read(long key, int cookie) throws CorruptNeedleException, VolumeReadException {
    Generation g = generation;
    long offset = offsetOf(g, key);
    if (offset == 0) {
      return null;
    }
    MemorySegment m = g.mapping;
    try {
      NeedleHeader h = indexedHeader(m, offset, key);
      if (h.cookie() != cookie) {
        return null;
      }
      return NeedleCodec.decodeBody(m, g.view, offset, h, id);
    } catch (InternalError fault) {
      throw unreadable(offset, fault);
    } catch (CorruptNeedleException e) {
      throw damaged(g, key, offset, e);
    }
  }

  /** Header of the live needle of {@code key}, or null; checks as {@link #read} except the body. */
  NeedleHeader header(long key) throws CorruptNeedleException, VolumeReadException {
    Generation g = generation;
    long offset = offsetOf(g, key);
    if (offset == 0) {
      return null;
    }
    try {
      return indexedHeader(g.mapping, offset, key);
    } catch (InternalError fault) {
      throw unreadable(offset, fault);
    } catch (CorruptNeedleException e) {
      throw damaged(g, key, offset, e);
    }
  }

  /**
   * What a failed check of the record at {@code offset} means. In compiled code the JVM may report
   * a fault on the mapping late (see {@link MappedPages}): the load returns zeros and the check
   * fails first. So before a needle is called damaged, a file cut short under the mapping (it ends
   * before the record's header) is told apart, and a fault that surfaces meanwhile is counted as
   * one.
   */
  private CorruptNeedleException damaged(Generation g, long key, long offset, CorruptNeedleException e)
      throws VolumeReadException {
    long size;
    try {
      size = g.dat.size();
    } catch (InternalError fault) {
      throw unreadable(offset, fault);
    } catch (IOException sizeUnknown) {
      size = Long.MAX_VALUE;
      e.addSuppressed(sizeUnknown);
    }
    if (size < offset + NeedleCodec.HEADER_SIZE) {
      readErrors.incrementAndGet();
      throw new VolumeReadException(id, offset, new IOException(datPath.getFileName() + " is "
          + size + " bytes, shorter than its mapping: cut short behind the store", e));
    }
    g.damaged.add(key);
    return e;
  }

  /**
   * Counts a read fault and describes it. {@code fault} is the JVM's {@code InternalError} for a
   * {@code SIGBUS} on the mapping, which {@link MappedPages#touch} makes surface inside the
   * {@code try} of its caller; nothing else there throws that error.
   */
  private VolumeReadException unreadable(long offset, InternalError fault) {
    readErrors.incrementAndGet();
    return new VolumeReadException(id, offset, fault);
  }

  /** Byte offset of the live needle of {@code key} in {@code g}, or 0 (the superblock) if none. */
  private static long offsetOf(Generation g, long key) {
    return Integer.toUnsignedLong(g.index.get(key)) << NeedleCodec.ALIGNMENT_SHIFT;
  }

  /** The header at an index entry's offset, checked to be the live needle of {@code key}. */
  private NeedleHeader indexedHeader(MemorySegment m, long offset, long key) throws CorruptNeedleException {
    NeedleHeader h = NeedleCodec.decodeHeader(m, offset, m.byteSize(), id);
    checkIndexed(h, key, offset);
    return h;
  }

  private void checkIndexed(NeedleHeader h, long key, long offset) throws CorruptNeedleException {
    if (h.key() != key || h.tombstone()) {
      throw new CorruptNeedleException(id, offset, "index entry for key " + key + " points to a "
          + (h.tombstone() ? "tombstone" : "needle") + " of key " + h.key());
    }
  }

  /**
   * Bytes from a needle's offset that {@link #isResident} checks with its first {@code mincore}
   * call: the header and a typical small record (the corpus median is ~19 KB), so that most checks
   * are one system call. Bytes; a multiple of the page size.
   */
  static final long RESIDENT_WINDOW = 64L << 10;

  /**
   * Whether the pages of the live needle of {@code key} are resident; true if there is none.
   *
   * <p>Implementation note: every {@link MemorySegment#isLoaded} is one {@code mincore} system
   * call, which costs more than the CRC-checked read it guards. The common case is therefore one
   * call over {@link #RESIDENT_WINDOW} bytes from the needle's offset (clipped to the mapping);
   * only a record longer than the window needs a second call for its rest. When the window is not
   * all resident (it may reach past the needle into cold pages), the exact check follows (header,
   * then record), so the answer stays exact and the extra calls land only on the path that goes to
   * the disk anyway. Before all that, the {@link PageResidency} snapshot of the last background
   * scan answers without any system call when it saw every page of the record resident. JMH ({@code NeedleReadBenchmark.isResident}, 1 thread, all resident, 2-core
   * shared VM, 2+3 iterations of 1 s): 1 KiB needles 338 k to 580 k ops/s (3.0 to 1.7 µs),
   * 20 KiB 306 k to 563 k ops/s (3.3 to 1.8 µs).
   *
   * <p>A header that cannot be read answers false: the caller then reads off its event loop, where
   * the read fails with {@link VolumeReadException}.
   */
  boolean isResident(long key) {
    try {
      return isResidentOrFault(key);
    } catch (InternalError fault) {
      return false;
    }
  }

  private boolean isResidentOrFault(long key) {
    Generation g = generation;
    long offset = offsetOf(g, key);
    if (offset == 0) {
      return true;
    }
    MemorySegment m = g.mapping;
    long size = m.byteSize();
    if (offset + NeedleCodec.HEADER_SIZE > size) {
      return true;
    }
    if (!g.readSinceScan) {
      g.readSinceScan = true;
    }
    PageResidency snapshot = g.residency;
    if (snapshot != null && snapshot.allResident(m, offset, NeedleCodec.HEADER_SIZE)) {
      long length = recordLength(m, offset);
      if (offset + length > size || snapshot.allResident(m, offset, length)) {
        return true; // resident at the last scan: no system call (see PageResidency)
      }
    }
    long window = Math.min(RESIDENT_WINDOW, size - offset);
    if (!m.asSlice(offset, window).isLoaded()) {
      return isResidentExact(m, offset);
    }
    long length = recordLength(m, offset);
    if (offset + length > size) {
      return true; // the read will fail fast as corrupt, without touching the disk
    }
    return length <= window || m.asSlice(offset + window, length - window).isLoaded();
  }

  /** Header page first (so that parsing it cannot fault), then the whole record. */
  private static boolean isResidentExact(MemorySegment m, long offset) {
    if (!m.asSlice(offset, NeedleCodec.HEADER_SIZE).isLoaded()) {
      return false;
    }
    long length = recordLength(m, offset);
    if (offset + length > m.byteSize()) {
      return true; // as above: corrupt, fails fast
    }
    return m.asSlice(offset, length).isLoaded();
  }

  /**
   * Record length from the header at {@code offset}, unchecked (the read checks it).
   *
   * @throws InternalError if the header's page cannot be read
   */
  private static long recordLength(MemorySegment m, long offset) {
    MappedPages.touch(m, offset, NeedleCodec.HEADER_SIZE);
    int dataLength = m.get(NeedleCodec.INT, offset + NeedleCodec.OFF_DATA_LENGTH);
    int metaLength = m.get(NeedleCodec.SHORT, offset + NeedleCodec.OFF_META_LENGTH) & 0xFFFF;
    return NeedleCodec.recordLength(metaLength, Integer.toUnsignedLong(dataLength));
  }

  boolean readOnly() {
    return sealed || failed;
  }

  StoreStats.VolumeStats stats() {
    Generation g = generation;
    long damaged = 0;
    for (long key : g.damaged) {
      if (g.index.get(key) != 0) {
        damaged++;
      }
    }
    long errors = readErrors.get();
    return new StoreStats.VolumeStats(id, liveNeedles, deletedNeedles, damaged, end, garbageBytes,
        readOnly(), g.index.heapBytes(), errors, errors > 0, g.revision);
  }

  @Override
  public String toString() {
    return "volume " + id + " (" + datPath.getFileName() + ")";
  }
}
