package dev.wimg.storage.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive lock on a data folder, held while a store has it open: two writers appending to the
 * same volume would interleave needles and corrupt it.
 *
 * <p>Implementation notes: an OS advisory lock ({@code fcntl}) on the file {@value #FILE_NAME}
 * inside the folder. The kernel drops it when the process dies, also on {@code kill -9}, so a
 * crashed server never leaves a stale lock behind (unlike a pid file). {@link VolumeChecker} does
 * not take it: verify is read-only and may run beside a live store.
 */
final class DataDirLock implements AutoCloseable {

  /** Name of the lock file inside the data folder; its content is not used. */
  static final String FILE_NAME = "LOCK";

  private final FileChannel channel;
  private final FileLock lock;

  private DataDirLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Takes the lock or fails at once.
   *
   * @throws IOException naming the folder if another process (or another store in this process)
   *     holds it
   */
  static DataDirLock acquire(Path dir) throws IOException {
    Path file = dir.resolve(FILE_NAME);
    FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
    if (lock == null) {
      ch.close();
      throw new IOException("data folder " + dir.toAbsolutePath()
          + " is in use by another WIMG store (lock held on " + file.getFileName() + ")");
    }
    return new DataDirLock(ch, lock);
  }

  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      channel.close();
    }
  }
}
