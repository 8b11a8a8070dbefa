package dev.wimg.server.internal.replication;

import dev.wimg.protocol.Fid;
import dev.wimg.storage.CopyReplacement;
import dev.wimg.storage.CorruptNeedleException;
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
 * A storage node's store as its handlers see it: a write or delete is acknowledged once the
 * group's copies rule is met ({@link Replication#awaitCopies}), and a delete of a file in a volume
 * another member writes is done by that member, which sends the tombstone to every copy (this one
 * included): a copy changes only by its writer's bytes.
 */
final class ReplicatedStore implements Store {

  private final Store local;
  private final Replication replication;
  private final ReplicaClient peers;

  ReplicatedStore(Store local, Replication replication, ReplicaClient peers) {
    this.local = local;
    this.replication = replication;
    this.peers = peers;
  }

  @Override
  public CompletableFuture<WriteResult> write(NewFile file) {
    return replicated(local.write(file));
  }

  @Override
  public CompletableFuture<WriteResult> write(NewFile file, Executor completer) {
    return replicated(local.write(file, completer));
  }

  private CompletableFuture<WriteResult> replicated(CompletableFuture<WriteResult> written) {
    return written.thenCompose(r -> replication.awaitCopies(r.fid().volume(), "upload " + r.fid())
        .thenApply(copied -> r));
  }

  @Override
  public CompletableFuture<Boolean> delete(Fid fid) {
    StoreConfig config = local.config();
    int writer = StoreConfig.slotOf(fid.volume());
    if (fid.group() != config.group() || writer == config.slot() || writer == 0) {
      return local.delete(fid).thenCompose(deleted -> !deleted || writer == 0
          ? CompletableFuture.completedFuture(deleted)
          : replication.awaitCopies(fid.volume(), "the delete of " + fid).thenApply(copied -> true));
    }
    return replication.writerOf(writer)
        .map(member -> peers.delete(member, fid))
        .orElseGet(() -> CompletableFuture.failedFuture(new NotEnoughCopiesException("the delete of "
            + fid + " belongs to the member of slot " + writer + ", which no tracker has named")));
  }

  /**
   * Reads from this node's copy; a record that fails its check here is read from a peer's copy
   * (same volume, same offset), checked, written over the damaged one ({@link Store#repair}) and
   * then served, so a member never answers an error for a file a peer holds intact. A file this
   * copy may lack because it lags (a key its writer may have handed out since: {@link
   * #mayLag}) is looked for at the peers, whose tail of the volume is pulled first ({@link
   * Replication#pullNow}), so a member never answers 404 for a file its group acknowledged.
   *
   * <p>Implementation note: the peer's answer is awaited on the calling thread, an event loop
   * when the needle's pages were resident; that is the rare path of a damaged record only (a
   * read that may lag is never taken as resident: it goes to the blocking pool).
   */
  @Override
  public StoredFile read(Fid fid) throws IOException {
    StoredFile file;
    try {
      file = local.read(fid);
    } catch (CorruptNeedleException damaged) {
      if (damaged.volume() != fid.volume() || !replication.repairFromPeers(fid.volume(), damaged.offset())) {
        throw damaged;
      }
      return local.read(fid);
    }
    if (file == null && mayLag(fid) && replication.pullNow(fid.volume())) {
      file = local.read(fid);
    }
    return file;
  }

  /**
   * Whether this copy may lack {@code fid} for lagging behind the volume's writer: a volume of
   * this group written by another member, and a key at or past the last this copy holds.
   */
  private boolean mayLag(Fid fid) {
    StoreConfig config = local.config();
    int writer = StoreConfig.slotOf(fid.volume());
    return fid.group() == config.group() && writer != config.slot() && writer != 0
        && fid.key() >= local.keyLimit(fid.volume());
  }

  @Override
  public long keyLimit(int volumeId) {
    return local.keyLimit(volumeId);
  }

  @Override
  public CompletableFuture<Void> repair(int volumeId, long offset, ByteBuffer record) {
    return local.repair(volumeId, offset, record);
  }

  @Override
  public boolean isResident(Fid fid) {
    return local.isResident(fid) && !mayLag(fid);
  }

  @Override
  public CompletableFuture<Long> copy(int volumeId, int revision, long offset, ByteBuffer bytes) {
    return local.copy(volumeId, revision, offset, bytes);
  }

  @Override
  public ByteBuffer readRecords(int volumeId, int revision, long from, int maxBytes) throws IOException {
    return local.readRecords(volumeId, revision, from, maxBytes);
  }

  @Override
  public CopyReplacement replaceCopy(int volumeId, int revision) throws IOException {
    return local.replaceCopy(volumeId, revision);
  }

  /**
   * Vacuums a volume this node writes; its peers' copies follow by catch-up (docs/CLUSTER.md,
   * "Vacuum"). A copy of another member's volume is refused: its writer vacuums it.
   */
  @Override
  public CompletableFuture<Long> vacuum(int volumeId) {
    return local.vacuum(volumeId);
  }

  @Override
  public StoreStats stats() {
    return local.stats();
  }

  @Override
  public StoreConfig config() {
    return local.config();
  }

  @Override
  public void close() throws IOException {
    local.close();
  }
}
