package dev.wimg.storage.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * A snapshot of which pages of one volume mapping were in memory when it was taken: one bit per
 * page, filled by {@code mincore(2)} over the whole mapping from a background thread (see
 * {@link ResidencyScanner}), read by event loops without any system call.
 *
 * <p>Implementation notes: a {@code mincore} call per GET cost about 20 % of the small-file GET
 * rate (bench/serve-small.sh on 2 cores, 2026-11-25: 37.9 k req/s with the call, 46.5 k with none).
 * A snapshot answers from memory: 1 bit per 4 KiB page is 32 KiB per GiB of volume, well under a
 * byte per stored file. It can be stale by one scan interval: a page the kernel evicted since the
 * scan would fault on the event loop. {@code mincore} itself has the same race (in microseconds),
 * so no check can rule it out; the snapshot widens the window to the scan interval, which is why
 * that interval is short. Pages that were not resident at the scan (or written since) fall back to
 * an exact {@code mincore} call, and a snapshot vouches only for bytes whose pages the writer will
 * not drop from the page cache any more ({@link Volume.Generation#settledEnd} at the scan's start:
 * the writer releases appended ranges in append order, after the scan only beyond that offset), so
 * new needles are never wrongly read inline from disk. JMH
 * ({@code NeedleReadBenchmark.isResident}, 1 thread, 2+3 iterations of 1 s, quiet 2-core VM):
 * 1 KiB needles 0.58 M to 7.6 M ops/s, 20 KiB 0.56 M to 4.3 M ops/s.
 */
final class PageResidency {

  /** The bound {@code mincore}, or empty where it cannot be bound (then snapshots are never taken). */
  private static final Optional<MethodHandle> MINCORE = bindMincore();
  /** Page size used for the bitmap, bytes; {@code mincore} reports in these units. */
  static final long PAGE_SIZE = 4096;
  private static final int PAGE_SHIFT = 12;
  /** Most bytes of mapping passed to one {@code mincore} call (the vector is 1 byte per page). */
  private static final long CHUNK_BYTES = 256L << 20;

  private final long mappingAddress;
  private final long pages;
  private final long[] bits;
  /** Offset up to which the snapshot vouches for residency; beyond it answers "unknown". */
  private final long vouchedEnd;

  private PageResidency(long mappingAddress, long pages, long[] bits, long vouchedEnd) {
    this.mappingAddress = mappingAddress;
    this.pages = pages;
    this.bits = bits;
    this.vouchedEnd = vouchedEnd;
  }

  static boolean available() {
    return MINCORE.isPresent();
  }

  /**
   * Scans {@code mapping} (page-aligned, as every file mapping is). Returns null when
   * {@code mincore} is unavailable or fails (the caller then keeps using exact checks).
   *
   * @param vouchedEnd the snapshot answers only for bytes below this offset: pages beyond it may
   *     still be dropped from the page cache after the scan ({@link Volume.Generation#settledEnd})
   */
  static PageResidency scan(MemorySegment mapping, long vouchedEnd) {
    if (MINCORE.isEmpty() || (mapping.address() & (PAGE_SIZE - 1)) != 0) {
      return null;
    }
    long size = mapping.byteSize();
    long pages = (size + PAGE_SIZE - 1) >>> PAGE_SHIFT;
    long[] bits = new long[(int) ((pages + 63) >>> 6)];
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment vec = arena.allocate(CHUNK_BYTES >>> PAGE_SHIFT);
      for (long off = 0; off < size; off += CHUNK_BYTES) {
        long len = Math.min(CHUNK_BYTES, size - off);
        int rc = (int) MINCORE.get().invokeExact(mapping.asSlice(off, len), len, vec);
        if (rc != 0) {
          return null;
        }
        long first = off >>> PAGE_SHIFT;
        long n = (len + PAGE_SIZE - 1) >>> PAGE_SHIFT;
        for (long i = 0; i < n; i++) {
          if ((vec.get(ValueLayout.JAVA_BYTE, i) & 1) != 0) {
            long p = first + i;
            bits[(int) (p >>> 6)] |= 1L << p;
          }
        }
      }
    } catch (Throwable e) {
      return null;
    }
    return new PageResidency(mapping.address(), pages, bits, vouchedEnd);
  }

  /**
   * True if every page of {@code [offset, offset + length)} of {@code mapping} was resident at the
   * scan. False when unknown: another mapping (the file was remapped), pages past the scan, bytes
   * at or past the vouched end.
   */
  boolean allResident(MemorySegment mapping, long offset, long length) {
    if (mapping.address() != mappingAddress || length <= 0 || offset + length > vouchedEnd) {
      return false;
    }
    long first = offset >>> PAGE_SHIFT;
    long last = (offset + length - 1) >>> PAGE_SHIFT;
    if (last >= pages) {
      return false;
    }
    for (long p = first; p <= last; p++) {
      if ((bits[(int) (p >>> 6)] & (1L << p)) == 0) {
        return false;
      }
    }
    return true;
  }

  private static Optional<MethodHandle> bindMincore() {
    try {
      Linker linker = Linker.nativeLinker();
      Optional<MemorySegment> getpagesize = linker.defaultLookup().find("getpagesize");
      if (getpagesize.isEmpty()) {
        return Optional.empty();
      }
      int pageSize = (int) linker.downcallHandle(getpagesize.get(),
          FunctionDescriptor.of(ValueLayout.JAVA_INT)).invokeExact();
      if (pageSize != PAGE_SIZE) {
        return Optional.empty(); // the bitmap assumes 4 KiB pages; other sizes use exact checks
      }
      return linker.defaultLookup().find("mincore").map(address -> linker.downcallHandle(address,
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
              ValueLayout.ADDRESS)));
    } catch (Throwable e) {
      // Not Linux, or native access denied: exact checks through MemorySegment.isLoaded remain.
      return Optional.empty();
    }
  }
}
