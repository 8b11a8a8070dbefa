package dev.wimg.storage;

import java.io.IOException;

/**
 * A {@link Store#copy} whose bytes do not start where the store's copy of the volume ends: the
 * copy is behind (a gap) or the bytes are not the start of a record it holds. Nothing was
 * written; {@link #end()} says where the next copy must start.
 */
public final class CopyOffsetException extends IOException {

  private final long end;

  public CopyOffsetException(int volume, long offset, long end) {
    super("volume " + volume + " here ends at " + end + ", the copy starts at " + offset);
    this.end = end;
  }

  /** The length of this store's copy of the volume (0 when it has none). */
  public long end() {
    return end;
  }
}
