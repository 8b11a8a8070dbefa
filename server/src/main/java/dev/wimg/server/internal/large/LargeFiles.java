package dev.wimg.server.internal.large;

import dev.wimg.protocol.Fid;
import dev.wimg.storage.CorruptNeedleException;
import dev.wimg.storage.Store;
import dev.wimg.storage.StoredFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * What the rest of the server does with a large file's manifest ({@link Manifest}) besides
 * streaming it: its chunks for a delete, its bytes in one buffer for a transform.
 */
public final class LargeFiles {

  private LargeFiles() {}

  /**
   * The chunks of the file {@code fid} names, empty if it is not a large file (or not there).
   * Blocks (reads the manifest).
   *
   * @throws IOException if the manifest cannot be read or is not valid
   */
  public static List<Fid> chunksOf(Store store, Fid fid) throws IOException {
    StoredFile file = store.read(fid);
    if (file == null || !file.manifest()) {
      return List.of();
    }
    try {
      return Manifest.decode(file.data()).chunks().stream().map(Manifest.Chunk::fid).toList();
    } catch (IllegalArgumentException e) {
      throw new IOException("the manifest of " + fid + " is not valid: " + e.getMessage(), e);
    }
  }

  /**
   * A large file's bytes gathered from its chunks into one buffer (for a transform of a large
   * picture), as a {@link StoredFile} with the manifest's fid, name, type, date and checksum.
   * Blocks (reads every chunk, each checked).
   *
   * @param maxBytes the largest file gathered
   * @throws IOException if the file is larger than {@code maxBytes}, or a chunk is missing or
   *     fails its check ({@link CorruptNeedleException})
   */
  public static StoredFile gather(ChunkStore chunks, StoredFile manifestFile, long maxBytes) throws IOException {
    Manifest manifest;
    try {
      manifest = Manifest.decode(manifestFile.data());
    } catch (IllegalArgumentException e) {
      throw new IOException("the manifest of " + manifestFile.fid() + " is not valid: " + e.getMessage(), e);
    }
    if (manifest.size() > maxBytes) {
      throw new FileTooLargeException(manifest.size(), maxBytes);
    }
    ByteBuffer all = ByteBuffer.allocate((int) manifest.size());
    for (Manifest.Chunk c : manifest.chunks()) {
      StoredFile chunk = chunks.read(c);
      if (chunk == null || chunk.size() != c.size()) {
        throw new IOException("chunk " + c.fid() + " of " + manifestFile.fid() + " is "
            + (chunk == null ? "missing" : chunk.size() + " bytes, not " + c.size()));
      }
      all.put(chunk.data().duplicate());
    }
    return new StoredFile(manifestFile.fid(), manifestFile.name(), manifestFile.mime(),
        manifestFile.lastModified(), manifestFile.checksum(), all.flip().asReadOnlyBuffer());
  }

  /** A large file too large to be gathered into memory. */
  public static final class FileTooLargeException extends IOException {
    public FileTooLargeException(long size, long maxBytes) {
      super("the file is " + size + " bytes, more than the " + maxBytes + " a transform reads");
    }
  }
}
