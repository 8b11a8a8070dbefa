package dev.wimg.storage;

/** When an appended needle is forced to stable storage relative to its acknowledgement. */
public enum FsyncPolicy {
  /** Acknowledge only after fsync (group commit shares one fsync among concurrent writes). Default. */
  ALWAYS,
  /** Acknowledge after the write reaches the page cache; fsync every {@link StoreConfig#fsyncInterval()}. */
  INTERVAL,
  /** Never fsync on the write path (tests, scratch data); survives a process crash, not a power loss. */
  NEVER
}
