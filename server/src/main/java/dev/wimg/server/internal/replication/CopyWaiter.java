package dev.wimg.server.internal.replication;

import java.util.concurrent.CompletableFuture;

/**
 * Waits for a record to be durable on enough peers: completes once {@code needed} peers confirmed
 * it, fails once so many peers failed that {@code needed} can no longer be reached. Thread-safe:
 * peers answer on their own threads.
 */
final class CopyWaiter {

  final CompletableFuture<Void> done = new CompletableFuture<>();
  private final int needed;
  private final int asked;
  private final String what;
  private int confirmed;
  private int failed;
  private String lastFailure;

  /**
   * @param needed peers that must confirm
   * @param asked  peers asked
   * @param what   the record, for the failure's message
   */
  CopyWaiter(int needed, int asked, String what) {
    this.needed = needed;
    this.asked = asked;
    this.what = what;
    if (needed <= 0) {
      done.complete(null);
    } else if (asked < needed) {
      done.completeExceptionally(new NotEnoughCopiesException(what + ": " + (asked + 1)
          + " member(s) of the group can hold it, " + (needed + 1) + " copies are needed"));
    }
  }

  void confirmed() {
    boolean complete;
    synchronized (this) {
      confirmed++;
      complete = confirmed == needed;
    }
    if (complete) {
      done.complete(null);
    }
  }

  void failed(String peer, String why) {
    boolean fail;
    synchronized (this) {
      failed++;
      lastFailure = peer + ": " + why;
      fail = asked - failed == needed - 1;
    }
    if (fail) {
      done.completeExceptionally(new NotEnoughCopiesException(what + " was made durable by "
          + (confirmed + 1) + " member(s), " + (needed + 1) + " copies are needed; " + lastFailure));
    }
  }
}
