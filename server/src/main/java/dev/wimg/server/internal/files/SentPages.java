package dev.wimg.server.internal.files;

import dev.wimg.storage.StoredFile;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Optional;

/**
 * Takes the pages of a large file's chunk out of this process's memory once a download has sent
 * them: {@code madvise(2)} with {@code MADV_DONTNEED} over the chunk's bytes in the volume
 * mapping ({@link StoredFile#data()}).
 *
 * <p>Why: a chunk is read from the memory-mapped volume, and every page of it that a download
 * touched (its CRC32C check, then the socket write) stays mapped in the server, counted in its
 * resident set, until the kernel needs the memory. With four uploads of 1 GiB and four downloads
 * of one 1 GiB file at once, the server's resident set peaked at 1,327 MiB, of which 248 MiB
 * anonymous and the rest the file's pages ({@code LargeFileMemoryTest}, 2-core VM, 2026-12-05):
 * its memory grew with the files it served, not with the work in flight. Released, a download
 * holds about one chunk's pages at a time: the same run peaked at 311 to 337 MiB.
 *
 * <p>Safety: on a shared file mapping {@code MADV_DONTNEED} only removes this process's page
 * table entries; the pages stay in the page cache and the bytes stay the file's, so a reader of
 * the same chunk at the same time (another download) maps them again with a minor fault. The
 * caller keeps the {@link StoredFile} reachable across the call, so the range is still its volume's
 * mapping (the store unmaps a mapping only once no reader holds it). Only whole pages inside the
 * chunk's bytes are released: the pages it shares with its neighbours stay.
 *
 * <p>Where the call cannot be bound (not Linux, or native access denied) this does nothing.
 */
final class SentPages {

  /** Page size assumed for alignment, bytes; with larger pages the call fails and changes nothing. */
  static final long PAGE_BYTES = 4096;
  /** {@code madvise} advice on Linux: drop the range's page table entries. */
  private static final int MADV_DONTNEED = 4;
  /** Chunks smaller than this are not worth a system call, bytes. */
  static final long LEAST_BYTES = 64 * PAGE_BYTES;

  private static final Optional<MethodHandle> MADVISE = bind();

  private SentPages() {}

  /**
   * Releases the whole pages of {@code file}'s bytes from this process (see the class notes);
   * the caller keeps {@code file} reachable until this returns.
   */
  static void release(StoredFile file) {
    ByteBuffer data = file.data();
    if (MADVISE.isEmpty() || !data.isDirect() || data.remaining() < LEAST_BYTES) {
      return;
    }
    long start = MemorySegment.ofBuffer(data).address();
    long from = (start + PAGE_BYTES - 1) & -PAGE_BYTES;
    long to = (start + data.remaining()) & -PAGE_BYTES;
    if (to <= from) {
      return;
    }
    try {
      // a failure (EINVAL for another page size) leaves the pages mapped: nothing to undo
      int ignored = (int) MADVISE.get().invokeExact(MemorySegment.ofAddress(from), to - from, MADV_DONTNEED);
    } catch (Throwable e) {
      // the binding was checked at start; a call that throws changed nothing
    }
  }

  private static Optional<MethodHandle> bind() {
    if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")) {
      return Optional.empty();
    }
    try {
      Linker linker = Linker.nativeLinker();
      return linker.defaultLookup().find("madvise").map(address -> linker.downcallHandle(address,
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
              ValueLayout.JAVA_INT)));
    } catch (Throwable e) {
      // native access denied, or no C library: downloads keep their pages mapped
      return Optional.empty();
    }
  }
}
