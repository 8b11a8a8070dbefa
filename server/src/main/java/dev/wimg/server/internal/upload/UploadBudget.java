package dev.wimg.server.internal.upload;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The memory all in-flight upload bodies may hold together, shared by every connection of one
 * server. A body reserves its declared length before it is read (or each chunk as it arrives when
 * the length is not declared) and gives it back once the store has the bytes or the upload failed.
 *
 * <p>Implementation notes: a compare-and-set loop rather than a semaphore because reservations
 * never wait: an upload that does not fit is refused with 503 at once, so that a burst of large
 * uploads cannot exhaust the heap or direct memory of the node.
 */
public final class UploadBudget {

  private final long limit;
  private final AtomicLong reserved = new AtomicLong();

  public UploadBudget(long limitBytes) {
    if (limitBytes < 0) {
      throw new IllegalArgumentException("limitBytes must be >= 0, got " + limitBytes);
    }
    this.limit = limitBytes;
  }

  /** Reserves {@code bytes}, or reserves nothing and returns false if they do not fit. */
  public boolean tryReserve(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes must be >= 0, got " + bytes);
    }
    if (bytes == 0) {
      return true;
    }
    while (true) {
      long current = reserved.get();
      long next = current + bytes;
      if (next > limit) {
        return false;
      }
      if (reserved.compareAndSet(current, next)) {
        return true;
      }
    }
  }

  /** Gives back bytes reserved earlier. */
  public void release(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes must be >= 0, got " + bytes);
    }
    long after = reserved.addAndGet(-bytes);
    if (after < 0) {
      throw new IllegalStateException("upload budget released more than reserved: " + after);
    }
  }

  /** Bytes reserved now. */
  public long reservedBytes() {
    return reserved.get();
  }

  public long limitBytes() {
    return limit;
  }
}
