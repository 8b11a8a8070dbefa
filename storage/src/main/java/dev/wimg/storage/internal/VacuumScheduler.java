package dev.wimg.storage.internal;

import dev.wimg.storage.StoreConfig;
import java.util.concurrent.CompletableFuture;

/** Decides when volumes are vacuumed and runs vacuums one at a time off the writer thread. */
final class VacuumScheduler {

  VacuumScheduler(LocalStore store, GroupCommitWriter writer, StoreConfig config) {}

  void garbageGrew(Volume v) {}

  CompletableFuture<Long> vacuum(int volumeId) {
    return CompletableFuture.failedFuture(new UnsupportedOperationException("vacuum not written yet"));
  }

  void close() {}
}
