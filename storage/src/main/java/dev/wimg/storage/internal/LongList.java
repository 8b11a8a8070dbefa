package dev.wimg.storage.internal;

import java.util.Arrays;

/** A growable list of primitive longs (no boxing). Not thread-safe. */
final class LongList {

  private long[] values = new long[16];
  private int size;

  void add(long v) {
    if (size == values.length) {
      values = Arrays.copyOf(values, size * 2);
    }
    values[size++] = v;
  }

  long get(int i) {
    return values[i];
  }

  int size() {
    return size;
  }
}
