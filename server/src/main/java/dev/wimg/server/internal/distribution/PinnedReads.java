package dev.wimg.server.internal.distribution;

import dev.wimg.protocol.Fid;
import dev.wimg.storage.CopyReplacement;
import dev.wimg.storage.NewFile;
import dev.wimg.storage.Store;
import dev.wimg.storage.StoreConfig;
import dev.wimg.storage.StoreStats;
import dev.wimg.storage.StoredFile;
import dev.wimg.storage.WriteResult;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * A storage node's store as its handlers see it: its own, plus the files and pieces pinned here
 * ({@link PinnedCopies}) read under their original fids. A fid of the node's own group goes to its
 * store as before (the hot path gains one comparison; only a miss looks among the pins, for a
 * piece its store lacked); another group's is looked up among the pins first. Everything else (writes, deletes, replication, figures) is the node's own store's.
 *
 * <p>So the read paths serve a pinned copy unchanged: {@code GET}, {@code HEAD}, {@code Range},
 * {@code ?chunks}, transforms and the derived pictures, which are keyed by original fid and
 * checksum.
 */
public final class PinnedReads implements Store {

  private final Store own;
  private final int ownGroup;
  private final PinnedCopies pins;

  public PinnedReads(Store own, int ownGroup, PinnedCopies pins) {
    this.own = own;
    this.ownGroup = ownGroup;
    this.pins = pins;
  }

  @Override
  public StoredFile read(Fid fid) throws IOException {
    if (fid.group() != ownGroup) {
      StoredFile pinned = pins.read(fid);
      if (pinned != null) {
        return pinned;
      }
    }
    StoredFile file = own.read(fid);
    // a chunk of the node's own group that its store lacks (it was down, or catching up) may
    // have come as a task's piece: peers the tracker sends to this node are answered from the pin
    return file != null || fid.group() != ownGroup ? file : pins.read(fid);
  }

  @Override
  public boolean isResident(Fid fid) {
    // a pinned file is read by the blocking pool: its pages may well be on the disk alone
    return (fid.group() == ownGroup || !pins.holds(fid)) && own.isResident(fid);
  }

  @Override
  public CompletableFuture<WriteResult> write(NewFile file) {
    return own.write(file);
  }

  @Override
  public CompletableFuture<WriteResult> write(NewFile file, Executor completer) {
    return own.write(file, completer);
  }

  @Override
  public long keyLimit(int volumeId) {
    return own.keyLimit(volumeId);
  }

  @Override
  public CompletableFuture<Boolean> delete(Fid fid) {
    return own.delete(fid);
  }

  @Override
  public CompletableFuture<Long> copy(int volumeId, int revision, long offset, ByteBuffer bytes) {
    return own.copy(volumeId, revision, offset, bytes);
  }

  @Override
  public ByteBuffer readRecords(int volumeId, int revision, long from, int maxBytes) throws IOException {
    return own.readRecords(volumeId, revision, from, maxBytes);
  }

  @Override
  public CopyReplacement replaceCopy(int volumeId, int revision) throws IOException {
    return own.replaceCopy(volumeId, revision);
  }

  @Override
  public CompletableFuture<Void> repair(int volumeId, long offset, ByteBuffer record) {
    return own.repair(volumeId, offset, record);
  }

  @Override
  public CompletableFuture<Long> vacuum(int volumeId) {
    return own.vacuum(volumeId);
  }

  @Override
  public StoreStats stats() {
    return own.stats();
  }

  @Override
  public StoreConfig config() {
    return own.config();
  }

  /** Closes the node's store, then the pins. */
  @Override
  public void close() throws IOException {
    try {
      own.close();
    } finally {
      pins.close();
    }
  }
}
