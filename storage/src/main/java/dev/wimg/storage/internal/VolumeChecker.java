package dev.wimg.storage.internal;

import dev.wimg.storage.VerifyReport;
import java.nio.file.Path;

/** Read-only check of every volume in a folder. */
final class VolumeChecker {

  private VolumeChecker() {}

  static VerifyReport check(Path dir) {
    throw new UnsupportedOperationException("verify not written yet");
  }
}
