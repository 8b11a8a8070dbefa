package dev.wimg.server.internal.large;

import dev.wimg.protocol.Fid;
import dev.wimg.storage.NewFile;
import dev.wimg.storage.Store;
import dev.wimg.storage.StoredFile;
import dev.wimg.storage.WriteResult;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * Where a large file's chunks are written, read and deleted. The all-in-one server and a node
 * whose cluster has one writable group keep them in the node's own store ({@link #local}); a node
 * of a cluster of several groups sends consecutive chunks to the groups in turn
 * ({@code cluster.SpreadChunks}), so that a large file's bytes, and the reads of them, are spread
 * over the groups' disks. The manifest stays with the node that took the upload: its fid is the
 * file's.
 */
public interface ChunkStore {

  /** Stores one chunk; completes with its fid. */
  CompletableFuture<Fid> write(NewFile chunk);

  /**
   * A chunk's bytes, checked (by the store's CRC32C here; a chunk read from another group by the
   * SHA-256 of {@code chunk}); null when there is no such chunk. Blocks.
   *
   * @throws IOException when it cannot be read or fails its check
   */
  StoredFile read(Manifest.Chunk chunk) throws IOException;

  /** Deletes a chunk; completes with whether there was one. */
  CompletableFuture<Boolean> delete(Fid fid);

  /** The chunks in {@code store}, the node's own. */
  static ChunkStore local(Store store) {
    return new ChunkStore() {
      @Override
      public CompletableFuture<Fid> write(NewFile chunk) {
        return store.write(chunk).thenApply(WriteResult::fid);
      }

      @Override
      public StoredFile read(Manifest.Chunk chunk) throws IOException {
        return store.read(chunk.fid());
      }

      @Override
      public CompletableFuture<Boolean> delete(Fid fid) {
        return store.delete(fid);
      }
    };
  }
}
