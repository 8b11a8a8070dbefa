package dev.wimg.server.internal.distribution;

import dev.wimg.protocol.Fid;
import dev.wimg.server.internal.large.ChunkStore;
import dev.wimg.server.internal.large.Manifest;
import dev.wimg.storage.NewFile;
import dev.wimg.storage.StoredFile;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * A storage node's chunks as a large file's body reads them: a chunk pinned here is read from the
 * pin, so a pinned large file is served from this node's disk alone; any other from {@code inner}
 * (this node's store, or another group's members). Writes and deletes are {@code inner}'s.
 */
public final class PinnedChunks implements ChunkStore {

  private final ChunkStore inner;
  private final PinnedCopies pins;

  public PinnedChunks(ChunkStore inner, PinnedCopies pins) {
    this.inner = inner;
    this.pins = pins;
  }

  @Override
  public StoredFile read(Manifest.Chunk chunk) throws IOException {
    StoredFile pinned = pins.read(chunk.fid());
    return pinned != null ? pinned : inner.read(chunk);
  }

  @Override
  public CompletableFuture<Fid> write(NewFile chunk) {
    return inner.write(chunk);
  }

  @Override
  public CompletableFuture<Boolean> delete(Fid fid) {
    return inner.delete(fid);
  }
}
