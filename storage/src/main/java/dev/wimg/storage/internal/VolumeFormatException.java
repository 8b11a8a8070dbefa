package dev.wimg.storage.internal;

import java.io.IOException;

/**
 * A volume or index file whose header cannot be read by this build: bad magic, checksum or an
 * unknown version. The message names the file and the values.
 */
public final class VolumeFormatException extends IOException {

  public VolumeFormatException(String message) {
    super(message);
  }
}
