package dev.wimg.storage;

import dev.wimg.protocol.Fid;
import dev.wimg.storage.internal.LocalStore;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The storage engine of one node: needles appended to volume files in one data folder.
 *
 * <p>Thread-safe. Writes and deletes are queued to a single writer per store that appends, then
 * shares one fsync among all writes queued meanwhile (group commit); their futures complete only
 * once the needle is durable under {@link StoreConfig#fsyncPolicy()}. Reads run on the caller's
 * thread from memory-mapped volumes and verify the needle's CRC32C before returning it.
 */
public interface Store extends Closeable {

  /** Opens (and recovers) the volumes in {@code config.dataDir()}, creating the folder if needed. */
  static Store open(StoreConfig config) throws IOException {
    return LocalStore.open(config);
  }

  /**
   * As {@link #open(StoreConfig)}, telling {@code listener} of every range appended to the
   * volumes of this store's own slot (replication; see {@link AppendListener}).
   */
  static Store open(StoreConfig config, AppendListener listener) throws IOException {
    return LocalStore.open(config, listener);
  }

  /** Checks every needle of every volume under {@code dataDir} without changing anything. */
  static VerifyReport verify(Path dataDir) throws IOException {
    return LocalStore.verify(dataDir);
  }

  /**
   * Appends a new file. The future completes with its fid once durable, or exceptionally with an
   * {@link IOException} (disk full, store closed, volume read-only) — never acknowledged then.
   */
  CompletableFuture<WriteResult> write(NewFile file);

  /**
   * As {@link #write(NewFile)}, but the future is completed by a task handed to {@code completer}
   * (for example the event loop that answers the client), so that its callbacks run there without
   * a hop through the store's own acknowledgement thread. If {@code completer} refuses the task,
   * the future completes on the store's thread instead.
   */
  CompletableFuture<WriteResult> write(NewFile file, Executor completer);

  /**
   * Reads a file, verifying its checksum.
   *
   * @return the file, or null if no live needle has this fid (unknown volume or key, deleted, or a
   *     cookie that does not match: deliberately the same answer)
   * @throws CorruptNeedleException if the needle on disk fails a check; it is never returned
   * @throws VolumeReadException if the volume file could not be read where the needle lies (a disk
   *     read error, or the file cut short); the volume is then reported as needing a check
   * @throws IOException on another I/O failure (store closed)
   */
  StoredFile read(Fid fid) throws IOException;

  /**
   * Whether {@link #read} of this fid would be served from memory alone, without waiting on the
   * disk (all its pages are resident). Cheap; meant for event loops, which hand non-resident reads
   * to a blocking pool. A fid that does not resolve to a needle answers true (the read is cheap).
   */
  boolean isResident(Fid fid);

  /**
   * One more than the largest key this store's copy of a volume has published (acknowledged,
   * copied or deleted), 0 if it holds no such volume. A volume's writer hands out keys in order,
   * so a copy lacks every key at or past this that its writer has handed out (a copy that lags).
   * Cheap: one volatile read.
   */
  long keyLimit(int volumeId);

  /**
   * Deletes a file by appending a tombstone. Completes with true once the tombstone is durable,
   * false if there was no live needle with this fid (same rule as {@link #read}).
   */
  CompletableFuture<Boolean> delete(Fid fid);

  /**
   * Appends records copied from revision {@code revision} of a peer's volume (one of another slot
   * of this group, written by that slot's member) at exactly {@code offset}, so that this copy
   * stays byte for byte the writer's. Every record is checked (header, checksum, padding) before
   * any byte is written; a volume this store does not hold is created when {@code offset} is 0
   * (the bytes then start with its superblock, of that revision). Bytes this copy holds already (a
   * copy sent again) are skipped.
   *
   * @param bytes whole records (read from its position to its limit; not kept after the future
   *              completes)
   * @return completes once the bytes are durable, with the volume's new length; or exceptionally
   *     with {@link CopyOffsetException} (the copy starts past this copy's end: nothing written),
   *     {@link CopyRevisionException} (this copy is of another revision: nothing written), {@link
   *     CorruptNeedleException} (a record fails a check: nothing written), {@link
   *     IllegalArgumentException} (a volume of this store's own slot), or an {@link IOException}
   *     as {@link #write}
   */
  CompletableFuture<Long> copy(int volumeId, int revision, long offset, java.nio.ByteBuffer bytes);

  /**
   * Whole records of revision {@code revision} of a volume from {@code from}, for a peer's copy
   * ({@link #copy}): at most {@code maxBytes}, or the one record there if it is larger; only bytes
   * already durable and acknowledged. From offset 0 the superblock comes first.
   *
   * @param from 0, or the end of a record of this volume (the length of a copy of it)
   * @return a new buffer (position 0), empty when {@code from} is the end, or null if this store
   *     has no such volume
   * @throws CopyRevisionException  if the volume is at another revision here
   * @throws CorruptNeedleException if a record there fails a check of its header
   * @throws VolumeReadException    if the volume file cannot be read there
   * @throws IOException            if {@code from} is past the end
   */
  java.nio.ByteBuffer readRecords(int volumeId, int revision, long from, int maxBytes) throws IOException;

  /**
   * Starts a new copy of a peer's volume {@code volumeId} at {@code revision}, later than the copy
   * held here: its writer vacuumed it, so this copy's offsets no longer match the writer's and it
   * takes no more {@link #copy}. The caller appends the writer's records from offset 0 and commits
   * (docs/CLUSTER.md, "Vacuum").
   *
   * @throws IllegalArgumentException if this store writes the volume, holds no copy of it, holds
   *                                  {@code revision} or a later one, or is replacing it already
   * @throws IOException              if the new copy's files cannot be created
   */
  CopyReplacement replaceCopy(int volumeId, int revision) throws IOException;

  /**
   * Writes a peer's copy of a damaged record over this store's, in place: a member's copy of a
   * volume is byte for byte its peers', so the record at {@code offset} of theirs is the one this
   * store lost. Checked first: {@code record} must be one whole record that passes every check,
   * and the index must name {@code offset} for its key. Completes once the bytes are durable.
   *
   * @return fails with {@link CorruptNeedleException} if {@code record} fails a check, or an
   *     {@link IOException} if it does not belong at {@code offset}
   */
  CompletableFuture<Void> repair(int volumeId, long offset, java.nio.ByteBuffer record);

  /**
   * Compacts a volume now, whatever its garbage: rewrites its live needles to a new file while
   * reads and writes go on, then swaps. Completes with the number of bytes freed.
   */
  CompletableFuture<Long> vacuum(int volumeId);

  /** A snapshot of volumes, counts and space. */
  StoreStats stats();

  /** The configuration this store was opened with. */
  StoreConfig config();

  /** Flushes, fsyncs and closes every volume; pending writes complete first. Idempotent. */
  @Override
  void close() throws IOException;
}
