package dev.wimg.storage;

import dev.wimg.protocol.Fid;
import java.nio.ByteBuffer;

/**
 * Told of the bytes a store appends to the volumes it writes (those of its own slot), so that a
 * storage node can send them to its group's other members (docs/CLUSTER.md, "Replication").
 *
 * <p>Called on the store's writer thread once the range is written, before the store forces it
 * (so that a copy can be made durable elsewhere while this store's fsync runs) and before any write
 * in it is acknowledged, in append order for each volume: the ranges of one volume follow each
 * other with no gap. The first range of a new volume starts at offset 0 and includes its
 * superblock, so that a copy made of the ranges is byte for byte the volume. Volumes of other
 * slots (copies of a peer's volumes, {@link Store#copy}) are not reported.
 *
 * <p>A range may thus reach a copy and then be lost here: the fsync fails (the volume is then
 * read-only for good) or the machine loses power before it. So a store opened with a listener
 * appends to none of the volumes it finds at open: the first write after a start opens a new
 * volume, and a tail a copy holds can be copied back ({@link Store#copy} takes copies into a
 * sealed volume of its own slot), never overwritten by different records.
 */
@FunctionalInterface
public interface AppendListener {

  /**
   * A range became durable.
   *
   * @param volume   the volume id
   * @param revision the volume's revision (offsets of one revision mean nothing in another: a
   *                 vacuum starts the next one)
   * @param offset   the file offset of {@code bytes}' first byte
   * @param bytes  the bytes of the range, in a new heap buffer (position 0) the listener may
   *               keep. The listener must be quick; it delays the acknowledgement of the batch.
   */
  void appended(int volume, int revision, long offset, ByteBuffer bytes);

  /**
   * A copy of a peer's volume ({@link Store#copy}, {@link Store#replaceCopy}) deleted {@code fid}
   * here: its tombstone is durable, or a vacuumed revision no longer holds it. Called on a thread of
   * the store once the copy is durable; the listener must be quick (a storage node removes the
   * file's derived pictures, which are each member's own).
   */
  default void deletedByCopy(Fid fid) {}
}
