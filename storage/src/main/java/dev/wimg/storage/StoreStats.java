package dev.wimg.storage;

import java.util.List;

/**
 * A snapshot of a store for {@code /status} and metrics.
 *
 * @param volumes    one entry per volume, ascending id
 * @param freeBytes  usable bytes left on the data folder's file system
 */
public record StoreStats(List<VolumeStats> volumes, long freeBytes) {

  public long liveNeedles() {
    return volumes.stream().mapToLong(VolumeStats::liveNeedles).sum();
  }

  public long damagedNeedles() {
    return volumes.stream().mapToLong(VolumeStats::damagedNeedles).sum();
  }

  public long usedBytes() {
    return volumes.stream().mapToLong(VolumeStats::usedBytes).sum();
  }

  /**
   * @param id            volume id
   * @param liveNeedles   needles that can be read
   * @param deletedNeedles needles deleted and not yet vacuumed
   * @param damagedNeedles live needles known to fail their checks (read as corrupt, never served):
   *                      found by a read or kept by a vacuum since the store opened
   * @param usedBytes     bytes appended so far (live + garbage + headers)
   * @param garbageBytes  bytes of deleted needles and tombstones, reclaimed by vacuum
   * @param readOnly      sealed (full) or dropped to read-only after an error
   * @param indexHeapBytes heap held by this volume's in-memory index
   * @param readErrors    reads since open that failed because the volume file could not be read
   *                      ({@link VolumeReadException}: a disk read error, or the file cut short)
   * @param needsCheck    {@code readErrors > 0}: the volume's disk or file should be checked
   *                      ({@code wimg verify} once the server is stopped); cleared by reopening
   * @param revision      0 at creation, one more per vacuum (docs/FORMAT.md, superblock)
   */
  public record VolumeStats(int id, long liveNeedles, long deletedNeedles, long damagedNeedles,
                            long usedBytes, long garbageBytes, boolean readOnly, long indexHeapBytes,
                            long readErrors, boolean needsCheck, int revision) {}
}
