package dev.wimg.storage;

import java.nio.ByteBuffer;

/**
 * Told of the bytes a store appends to the volumes it writes (those of its own slot), so that a
 * storage node can send them to its group's other members (docs/CLUSTER.md, "Replication").
 *
 * <p>Called on the store's writer thread once the range is durable under the store's {@link
 * FsyncPolicy} and before any write in it is acknowledged, in append order for each volume: the
 * ranges of one volume follow each other with no gap. The first range of a new volume starts at
 * offset 0 and includes its superblock, so that a copy made of the ranges is byte for byte the
 * volume. Volumes of other slots (copies of a peer's volumes, {@link Store#copy}) are not reported.
 */
@FunctionalInterface
public interface AppendListener {

  /**
   * A range became durable.
   *
   * @param volume the volume id
   * @param offset the file offset of {@code bytes}' first byte
   * @param bytes  the bytes of the range, valid only during the call (a view of the volume's
   *               mapping): copy what is kept. The listener must be quick; it delays the
   *               acknowledgement of the batch.
   */
  void appended(int volume, long offset, ByteBuffer bytes);
}
