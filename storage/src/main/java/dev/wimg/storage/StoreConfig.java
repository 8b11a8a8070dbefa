package dev.wimg.storage;

import dev.wimg.protocol.Fid;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Settings of a {@link Store}. Build with {@link #defaults(Path)} and the {@code with…} methods.
 *
 * @param dataDir           folder holding the volume files; created if missing
 * @param group             the storage group this node belongs to, written into every fid
 * @param slot              this node's slot in its group, 0..{@value #MAX_SLOT}: the high 8 bits
 *                          of the ids of the volumes it creates, {@code (slot << 16) | n} with
 *                          n = 1, 2, ... (docs/FORMAT.md, "Volume ids"); 0 for the all-in-one
 *                          server and every folder made before slots existed
 * @param volumeSizeLimit   bytes; a volume that reaches it is sealed and a new one is opened
 * @param fsyncPolicy       durability of acknowledged writes
 * @param fsyncInterval     period of background fsync under {@link FsyncPolicy#INTERVAL}
 * @param garbageThreshold  fraction 0..1 of dead bytes in a sealed or active volume that starts an
 *                          automatic vacuum
 * @param preallocateBytes  bytes the volume file is grown by ahead of the write position
 *                          (allocated, reading as zeros), so that appends do not change the file
 *                          size and the read mapping is replaced once per step
 * @param releaseWrittenPages once appended bytes are durable (after their fsync), advise the kernel
 *                          to drop their page-cache pages, so that the cache holds what is read
 *                          rather than what was just written (see {@code VolumeSyncer}); a
 *                          file read soon after its upload then comes from the disk once. No
 *                          effect under {@link FsyncPolicy#NEVER}, on tmpfs, or where the C
 *                          library cannot be called
 * @param ticker            monotonic nanoseconds, as {@link System#nanoTime()} (the default):
 *                          what the fsync interval is timed by. A test passes a ticker it moves
 *                          by hand to decide when the interval has passed.
 */
public record StoreConfig(
    Path dataDir,
    int group,
    int slot,
    long volumeSizeLimit,
    FsyncPolicy fsyncPolicy,
    Duration fsyncInterval,
    double garbageThreshold,
    long preallocateBytes,
    boolean releaseWrittenPages,
    LongSupplier ticker) {

  /** Default volume size cap: 1 GiB keeps a vacuum short. */
  public static final long DEFAULT_VOLUME_SIZE_LIMIT = 1L << 30;
  /** Largest volume: offsets are kept as 32-bit counts of 8-byte units. */
  public static final long MAX_VOLUME_SIZE_LIMIT = 32L << 30;
  /** Default garbage fraction that triggers a vacuum. */
  public static final double DEFAULT_GARBAGE_THRESHOLD = 0.3;
  /** Default preallocation step: 64 MiB. */
  public static final long DEFAULT_PREALLOCATE_BYTES = 64L << 20;

  /** Largest slot: slots take the high 8 of a volume id's 24 bits. */
  public static final int MAX_SLOT = 255;
  /** Volumes one slot can create: the low 16 bits of a volume id, 0 unused. */
  public static final int VOLUMES_PER_SLOT = 65_535;
  /** Bits of a volume id below the slot. */
  public static final int SLOT_SHIFT = 16;

  public StoreConfig {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(fsyncPolicy, "fsyncPolicy");
    Objects.requireNonNull(fsyncInterval, "fsyncInterval");
    Objects.requireNonNull(ticker, "ticker");
    if (group < 1 || group > Fid.MAX_GROUP) {
      throw new IllegalArgumentException("group must be 1.." + Fid.MAX_GROUP + ", got " + group);
    }
    if (slot < 0 || slot > MAX_SLOT) {
      throw new IllegalArgumentException("slot must be 0.." + MAX_SLOT + ", got " + slot);
    }
    if (volumeSizeLimit < (1L << 20) || volumeSizeLimit > MAX_VOLUME_SIZE_LIMIT) {
      throw new IllegalArgumentException(
          "volumeSizeLimit must be 1 MiB.." + MAX_VOLUME_SIZE_LIMIT + " bytes, got " + volumeSizeLimit);
    }
    if (!(garbageThreshold > 0 && garbageThreshold <= 1)) {
      throw new IllegalArgumentException("garbageThreshold must be in (0, 1], got " + garbageThreshold);
    }
    if (preallocateBytes < 0) {
      throw new IllegalArgumentException("preallocateBytes must be >= 0, got " + preallocateBytes);
    }
  }

  public static StoreConfig defaults(Path dataDir) {
    return new StoreConfig(dataDir, 1, 0, DEFAULT_VOLUME_SIZE_LIMIT, FsyncPolicy.ALWAYS,
        Duration.ofSeconds(1), DEFAULT_GARBAGE_THRESHOLD, DEFAULT_PREALLOCATE_BYTES, true, System::nanoTime);
  }

  /** These settings for another data folder (for example a store kept beside this one). */
  public StoreConfig withDataDir(Path dir) {
    return new StoreConfig(dir, group, slot, volumeSizeLimit, fsyncPolicy, fsyncInterval, garbageThreshold,
        preallocateBytes, releaseWrittenPages, ticker);
  }

  public StoreConfig withGroup(int g) {
    return new StoreConfig(dataDir, g, slot, volumeSizeLimit, fsyncPolicy, fsyncInterval, garbageThreshold,
        preallocateBytes, releaseWrittenPages, ticker);
  }

  /** The id of the {@code n}th volume (1..{@value #VOLUMES_PER_SLOT}) this node creates. */
  public int volumeId(int n) {
    if (n < 1 || n > VOLUMES_PER_SLOT) {
      throw new IllegalArgumentException("n must be 1.." + VOLUMES_PER_SLOT + ", got " + n);
    }
    return (slot << SLOT_SHIFT) | n;
  }

  /** The slot whose member creates volume {@code volumeId}. */
  public static int slotOf(int volumeId) {
    return volumeId >>> SLOT_SHIFT;
  }

  /** These settings for the member of its group at {@code s} (see {@link #slot()}). */
  public StoreConfig withSlot(int s) {
    return new StoreConfig(dataDir, group, s, volumeSizeLimit, fsyncPolicy, fsyncInterval,
        garbageThreshold, preallocateBytes, releaseWrittenPages, ticker);
  }

  public StoreConfig withVolumeSizeLimit(long bytes) {
    return new StoreConfig(dataDir, group, slot, bytes, fsyncPolicy, fsyncInterval, garbageThreshold,
        preallocateBytes, releaseWrittenPages, ticker);
  }

  public StoreConfig withFsyncPolicy(FsyncPolicy p) {
    return new StoreConfig(dataDir, group, slot, volumeSizeLimit, p, fsyncInterval, garbageThreshold,
        preallocateBytes, releaseWrittenPages, ticker);
  }

  public StoreConfig withFsyncInterval(Duration d) {
    return new StoreConfig(dataDir, group, slot, volumeSizeLimit, fsyncPolicy, d, garbageThreshold,
        preallocateBytes, releaseWrittenPages, ticker);
  }

  public StoreConfig withGarbageThreshold(double t) {
    return new StoreConfig(dataDir, group, slot, volumeSizeLimit, fsyncPolicy, fsyncInterval, t,
        preallocateBytes, releaseWrittenPages, ticker);
  }

  public StoreConfig withPreallocateBytes(long bytes) {
    return new StoreConfig(dataDir, group, slot, volumeSizeLimit, fsyncPolicy, fsyncInterval, garbageThreshold,
        bytes, releaseWrittenPages, ticker);
  }

  public StoreConfig withReleaseWrittenPages(boolean release) {
    return new StoreConfig(dataDir, group, slot, volumeSizeLimit, fsyncPolicy, fsyncInterval, garbageThreshold,
        preallocateBytes, release, ticker);
  }

  public StoreConfig withTicker(LongSupplier t) {
    return new StoreConfig(dataDir, group, slot, volumeSizeLimit, fsyncPolicy, fsyncInterval, garbageThreshold,
        preallocateBytes, releaseWrittenPages, t);
  }
}
