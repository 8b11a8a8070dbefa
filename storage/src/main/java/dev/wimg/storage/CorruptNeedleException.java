package dev.wimg.storage;

import java.io.IOException;

/**
 * Bytes on disk that fail a check: bad magic, impossible sizes, CRC mismatch. Distinct from an
 * I/O failure because repair and vacuum treat them differently: a corrupt needle is never served,
 * is reported with its volume and offset, and is kept as it is by vacuum (never dropped).
 */
public class CorruptNeedleException extends IOException {

  private final int volume;
  private final long offset;

  public CorruptNeedleException(int volume, long offset, String detail) {
    super("corrupt needle in volume " + volume + " at offset " + offset + ": " + detail);
    this.volume = volume;
    this.offset = offset;
  }

  public int volume() {
    return volume;
  }

  public long offset() {
    return offset;
  }
}
