package dev.wimg.storage.internal;

import dev.wimg.storage.CorruptNeedleException;

/**
 * The bytes available end before the needle record does: a torn tail during recovery, or a header
 * whose lengths point past the end of the volume. A kind of corruption when found under an index
 * entry; the normal end of the scan when found at a volume's tail.
 */
public final class IncompleteNeedleException extends CorruptNeedleException {

  public IncompleteNeedleException(int volume, long offset, String detail) {
    super(volume, offset, "incomplete: " + detail);
  }
}
