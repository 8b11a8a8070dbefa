package dev.wimg.server.internal.slots;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * Applies the Raft log of slot claims ({@link ClaimEntry}) to a {@link SlotTable}, in log order,
 * the same on every tracker; answers each claim with its slot.
 *
 * <p>Durability: Ratis keeps the log in the tracker's data folder and replays it on start. A
 * snapshot of the table (the {@link SlotTable} format, in Ratis' {@code sm} folder) is taken when
 * the server stops, so that a start replays only what came after it; the table is small (at most
 * 255 nodes per group) and changes once per member ever.
 *
 * <p>Thread-safety: Ratis applies entries one at a time; {@link #table} is guarded by
 * {@code this}, which snapshots and {@link #copy} also take.
 */
final class SlotStateMachine extends BaseStateMachine {

  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  /** Guarded by {@code this}. */
  private final SlotTable table = new SlotTable();

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage)
      throws IOException {
    super.initialize(server, groupId, raftStorage);
    storage.init(raftStorage);
    load(storage.loadLatestSnapshot());
  }

  @Override
  public void reinitialize() throws IOException {
    load(storage.loadLatestSnapshot());
  }

  @Override
  public StateMachineStorage getStateMachineStorage() {
    return storage;
  }

  private void load(SingleFileSnapshotInfo snapshot) throws IOException {
    if (snapshot == null) {
      return;
    }
    Path file = snapshot.getFile().getPath();
    synchronized (this) {
      try (InputStream in = Files.newInputStream(file)) {
        table.readFrom(new DataInputStream(in));
      }
      setLastAppliedTermIndex(snapshot.getTermIndex());
    }
  }

  @Override
  public long takeSnapshot() throws IOException {
    TermIndex last;
    Path tmp;
    synchronized (this) {
      last = getLastAppliedTermIndex();
      if (last == null || last.getIndex() < 0) {
        return RaftLog.INVALID_LOG_INDEX;
      }
      Path file = storage.getSnapshotFile(last.getTerm(), last.getIndex()).toPath();
      tmp = file.resolveSibling(file.getFileName() + ".tmp");
      try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp))) {
        table.writeTo(new DataOutputStream(out));
      }
    }
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Path file = storage.getSnapshotFile(last.getTerm(), last.getIndex()).toPath();
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
      dir.force(true);
    }
    return last.getIndex();
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    ClaimEntry claim;
    try {
      claim = ClaimEntry.decode(entry.getStateMachineLogEntry().getLogData().toByteArray());
    } catch (IOException e) {
      synchronized (this) {
        updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
      }
      return CompletableFuture.failedFuture(e);
    }
    OptionalInt slot;
    synchronized (this) {
      slot = table.claim(claim.group(), claim.node());
      updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
    }
    return CompletableFuture.completedFuture(
        Message.valueOf(ByteString.copyFrom(ClaimEntry.answer(slot.orElse(0)))));
  }

  /** The table as this tracker has applied it: group → node → slot. */
  synchronized Map<Integer, Map<String, Integer>> copy() {
    return table.copy();
  }
}
