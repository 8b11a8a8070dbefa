package dev.wimg.storage.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Makes a page of a memory-mapped volume that cannot be read fail as a Java error at a known
 * point, instead of killing the JVM.
 *
 * <p>A page of a mapping that the kernel cannot provide (a disk read error, or the file truncated
 * behind the store's back) raises {@code SIGBUS} on access. The JVM turns it into
 * {@code InternalError("a fault occurred in an unsafe memory access operation")} only for
 * accesses made through {@code Unsafe} from Java code ({@link MemorySegment#get} and its bulk
 * copies); the same fault inside the CRC32C intrinsic ({@code StubRoutines::updateBytesCRC32C},
 * which {@link java.util.zip.CRC32C} uses for direct buffers once compiled) kills the process
 * (hs_err, JDK 25.0.3). Callers therefore {@link #touch} every page of a range before checksumming
 * it: a page that faults does so here, where it is survivable.
 *
 * <p>Implementation notes: in compiled code the JVM reports the fault asynchronously: the faulting
 * load returns garbage and the error is raised at the thread's next safepoint poll, which could lie
 * after the CRC call. {@link #touch} therefore ends with a call to a native method
 * ({@link Thread#holdsLock}, chosen because it is cheap, about 40 ns, and not a compiler intrinsic):
 * the return from native code processes the pending error, so it is thrown before {@link #touch}
 * returns. A page that is evicted and fails between the touch and the checksum (microseconds) can
 * still reach the intrinsic; nothing short of copying every read can close that window.
 */
final class MappedPages {

  /** Stride of {@link #touch}, bytes: the smallest page size of the platforms the store runs on. */
  static final long PAGE_BYTES = 4096;

  /** The monitor {@link #touch} asks about; never locked. */
  private static final Object NATIVE_RETURN = new Object();

  private MappedPages() {}

  /**
   * Reads one byte of every page of {@code [offset, offset + length)} of {@code seg}.
   *
   * @throws InternalError if a page cannot be read (the JVM's report of {@code SIGBUS})
   */
  static void touch(MemorySegment seg, long offset, long length) {
    if (length <= 0) {
      return;
    }
    long last = offset + length - 1;
    byte sink = 0;
    for (long p = offset; p <= last; p = (p | (PAGE_BYTES - 1)) + 1) {
      sink ^= seg.get(ValueLayout.JAVA_BYTE, p);
    }
    // A native call (see the class notes); its answer is used so the loop cannot be elided.
    if (Thread.holdsLock(NATIVE_RETURN) && sink == 42) {
      throw new AssertionError("never locked");
    }
  }
}
