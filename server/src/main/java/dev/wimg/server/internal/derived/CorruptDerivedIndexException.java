package dev.wimg.server.internal.derived;

/**
 * A derived-index entry or header that fails its checks (bad magic, version, length or CRC).
 * Loading stops at the first one: what follows is dropped (a torn tail after a crash).
 */
public final class CorruptDerivedIndexException extends Exception {

  private final long offset;

  public CorruptDerivedIndexException(long offset, String message) {
    super(message + " at offset " + offset);
    this.offset = offset;
  }

  /** Byte offset in the log of the entry (or header) that failed. */
  public long offset() {
    return offset;
  }
}
