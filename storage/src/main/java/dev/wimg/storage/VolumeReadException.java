package dev.wimg.storage;

import java.io.IOException;

/**
 * Bytes of a volume that could not be read at all: the kernel failed to page in the mapped file
 * (a disk read error) or the bytes are no longer in the file (it was cut short behind the store's
 * back). Distinct from {@link CorruptNeedleException}, where the bytes were read and failed a
 * check: here nothing is known about them, and the same read may succeed after the disk recovers.
 * The volume is marked as needing a check ({@link StoreStats.VolumeStats#needsCheck()}); other
 * volumes are not affected.
 */
public class VolumeReadException extends IOException {

  private final int volume;
  private final long offset;

  public VolumeReadException(int volume, long offset, Throwable cause) {
    super("volume " + volume + " could not be read at offset " + offset + " (disk read error, or the file"
        + " was cut short): " + cause.getMessage(), cause);
    this.volume = volume;
    this.offset = offset;
  }

  public int volume() {
    return volume;
  }

  /** Offset of the needle being read. */
  public long offset() {
    return offset;
  }
}
