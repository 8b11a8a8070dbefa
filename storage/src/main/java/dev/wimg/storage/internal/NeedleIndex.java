package dev.wimg.storage.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The in-memory index of one volume: for each dense key, one int holding the needle's offset in
 * 8-byte units (so a volume can reach 32 GiB), or 0 for absent or deleted (offset 0 is the
 * superblock, never a needle).
 *
 * <p>The ints live in fixed pages of {@value #PAGE_SIZE} entries under a small directory, so growing
 * never copies entries and the heap cost is 4 bytes per key plus one page of slack.
 *
 * <p>Thread-safety: single writer, many readers. Only one thread calls {@link #set} at a time (the
 * store's writer thread, or the loader or compactor before the index is published). Readers call
 * {@link #get} without locks: slots are written with release and read with acquire semantics, and
 * the directory is replaced (copy on grow, a few KiB at most) through a volatile field, so a reader
 * sees either the old or the new directory, both holding the pages it needs.
 */
public final class NeedleIndex {

  /** log2 of {@link #PAGE_SIZE}. */
  static final int PAGE_BITS = 16;
  /** Entries per page: 64 Ki ints = 256 KiB. */
  public static final int PAGE_SIZE = 1 << PAGE_BITS;
  private static final int PAGE_MASK = PAGE_SIZE - 1;
  /** Heap bytes of an int[] page: 16-byte array header plus the ints. */
  private static final long PAGE_HEAP_BYTES = 16L + 4L * PAGE_SIZE;
  private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(int[].class);

  private volatile int[][] pages = new int[0][];
  /** One more than the largest key ever set; written by the single writer only. */
  private volatile long keyLimit;

  /** Offset units of {@code key}, or 0 if absent or deleted. */
  public int get(long key) {
    int[][] dir = pages;
    long page = key >>> PAGE_BITS;
    if (key < 0 || page >= dir.length) {
      return 0;
    }
    int[] p = dir[(int) page];
    return p == null ? 0 : (int) SLOT.getAcquire(p, (int) (key & PAGE_MASK));
  }

  /** Sets the slot of {@code key} (0 to remove). Single writer only. */
  public void set(long key, int offsetUnits) {
    if (key < 0 || key > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException("key must be 0..2^32-1, got " + key);
    }
    int pageNo = (int) (key >>> PAGE_BITS);
    int[][] dir = pages;
    if (pageNo >= dir.length) {
      int[][] grown = new int[Math.max(pageNo + 1, dir.length * 2)][];
      System.arraycopy(dir, 0, grown, 0, dir.length);
      dir = grown;
      pages = grown;
    }
    int[] p = dir[pageNo];
    if (p == null) {
      if (offsetUnits == 0) {
        return;
      }
      p = new int[PAGE_SIZE];
      dir[pageNo] = p;
      pages = dir;
    }
    SLOT.setRelease(p, (int) (key & PAGE_MASK), offsetUnits);
    if (key >= keyLimit) {
      keyLimit = key + 1;
    }
  }

  /** One more than the largest key set so far: keys are dense, so this is the key count. */
  public long keyLimit() {
    return keyLimit;
  }

  /** Heap held by this index: pages, directory and this object. */
  public long heapBytes() {
    int[][] dir = pages;
    long bytes = 16L + 16L + 8L * dir.length + 16L;
    for (int[] p : dir) {
      if (p != null) {
        bytes += PAGE_HEAP_BYTES;
      }
    }
    return bytes;
  }
}
