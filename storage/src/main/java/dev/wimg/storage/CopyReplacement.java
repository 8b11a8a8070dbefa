package dev.wimg.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * A new copy of a peer's volume at a later revision (its writer vacuumed it), built beside the
 * copy this store holds and then swapped in for it, as a vacuum swaps its result in: reads go on
 * from the old revision until {@link #commit}, and a crash before it leaves the old one as it was
 * (the half-built files are deleted when the store opens). See {@link Store#replaceCopy}.
 *
 * <p>Used by one thread at a time.
 */
public interface CopyReplacement extends Closeable {

  /** The volume replaced. */
  int volume();

  /** The revision the new copy is of. */
  int revision();

  /** Bytes of the new copy so far (0 before the first {@link #append}): where the next append starts. */
  long length();

  /**
   * Appends whole records of the writer's revision read from {@link #length()} (the first append
   * from offset 0 starts with the volume's superblock). Every record is checked before any of
   * them is written.
   *
   * @param records read from its position to its limit; not kept after the call returns
   * @throws CorruptNeedleException if a record fails a check (nothing of {@code records} written)
   * @throws IOException            if the superblock is not this volume's at {@link #revision()},
   *                                or on a write failure
   */
  void append(ByteBuffer records) throws IOException;

  /**
   * Makes the new copy durable and swaps it in for the old one, on the store's writer. Completes
   * with the new copy's length; fails if the store's copy of the volume changed revision
   * meanwhile (nothing swapped then).
   */
  CompletableFuture<Long> commit();

  /** Abandons the new copy unless it was committed: its files are deleted. Idempotent. */
  @Override
  void close();
}
