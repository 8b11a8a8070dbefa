package dev.wimg.storage;

import java.io.IOException;
import java.util.Locale;

/**
 * A write the store could not make because space ran out: the device is full (ENOSPC), the
 * disk quota is used up (EDQUOT), or a volume file reached the largest size the process may write
 * (EFBIG: a file system limit or {@code RLIMIT_FSIZE}). Distinct from other I/O failures because
 * it is the operator's to fix, not a fault of the disk: a server answers it with 507.
 *
 * <p>Nothing of the failed write stays behind: its bytes are cleared and the needles written
 * before it are untouched.
 */
public final class OutOfSpaceException extends IOException {

  /** What ran out. */
  public enum Reason {
    /** ENOSPC: the device holding the data folder is full. */
    DEVICE_FULL,
    /** EDQUOT: the disk quota of the server's user is used up. */
    QUOTA,
    /** EFBIG: a volume file reached the largest size this process may write. */
    FILE_SIZE_LIMIT
  }

  private final Reason reason;

  public OutOfSpaceException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }

  /**
   * {@code failure} as an out-of-space failure if that is what it reports, else null.
   *
   * <p>Implementation note: the JDK's file channels carry no errno, only the strerror(3) text of
   * the C library ("No space left on device", "Disk quota exceeded", "File too large"); the text
   * is all there is to tell these apart from other I/O errors. Text in another locale is not
   * recognised and stays a plain I/O failure.
   */
  public static OutOfSpaceException of(IOException failure) {
    if (failure instanceof OutOfSpaceException known) {
      return known;
    }
    String message = failure.getMessage();
    if (message == null) {
      return null;
    }
    String text = message.toLowerCase(Locale.ROOT);
    Reason reason;
    if (text.contains("no space left on device")) {
      reason = Reason.DEVICE_FULL;
    } else if (text.contains("disk quota exceeded")) {
      reason = Reason.QUOTA;
    } else if (text.contains("file too large")) {
      reason = Reason.FILE_SIZE_LIMIT;
    } else {
      return null;
    }
    return new OutOfSpaceException(reason, message, failure);
  }
}
