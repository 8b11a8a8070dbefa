package dev.wimg.storage;

import java.io.IOException;

/**
 * A copy or read of a volume's records named a revision this store's copy of it does not have:
 * the volume was vacuumed (its writer's revision is newer; this copy follows with {@link
 * Store#replaceCopy}) or the asker's copy is older. Offsets of one revision mean nothing in
 * another, so nothing was written or read; {@link #revision()} is the revision held here.
 */
public final class CopyRevisionException extends IOException {

  private final int revision;

  public CopyRevisionException(int volume, int asked, int revision) {
    super("volume " + volume + " is at revision " + revision + " here, not " + asked);
    this.revision = revision;
  }

  /** The revision of this store's copy of the volume. */
  public int revision() {
    return revision;
  }
}
