package dev.wimg.server;

import java.io.IOException;

/**
 * The data folder holds bytes that fail their checks (bad magic, impossible sizes, CRC mismatch),
 * as opposed to an I/O failure: {@code wimg verify} names each such place. The message is the
 * storage engine's, which names the volume and offset; the cause is the engine's exception.
 */
public final class CorruptDataException extends IOException {

  public CorruptDataException(String message, Throwable cause) {
    super(message, cause);
  }
}
