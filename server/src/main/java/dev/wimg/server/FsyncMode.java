package dev.wimg.server;

/**
 * When a node forces an upload to stable storage relative to acknowledging it: the choice an
 * operator makes with {@code wimg server --fsync}. The server hands it to its storage engine; it is
 * part of the server's own settings so that a program configuring a node (the {@code wimg} command)
 * needs nothing but this package.
 */
public enum FsyncMode {
  /** Acknowledge an upload only once it is on disk; concurrent uploads share an fsync. Default. */
  ALWAYS,
  /** Acknowledge once the upload is in the page cache; fsync every second. */
  INTERVAL,
  /** Leave flushing to the OS: survives a process crash, not a power loss. */
  NEVER
}
