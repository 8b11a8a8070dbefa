package dev.wimg.server.internal.distribution;

import dev.wimg.protocol.Fid;
import dev.wimg.storage.FsyncPolicy;
import dev.wimg.storage.NewFile;
import dev.wimg.storage.Store;
import dev.wimg.storage.StoreConfig;
import dev.wimg.storage.StoredFile;
import dev.wimg.storage.WriteResult;
import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The files pinned on this node by distribution tasks: their pieces and manifests as needles of a
 * store of their own, {@code <data>/pinned}, linked to the original fids by a {@link PinIndex}.
 * A pinned file is served under its original fid with its original name, type, date and ETag
 * ({@link #read}); its pieces are served as soon as each is verified, so peers fetch them from here.
 *
 * <p>Why a store of its own: pins are this node's alone, never copied to its group's other members,
 * whose volumes must stay byte for byte this node's; a store at slot 0 in its own folder is never
 * replicated, as the derived pictures' is not.
 *
 * <p>Thread-safe. {@link #putPiece}, {@link #putFile} and {@link #drop} block on the disk.
 */
public final class PinnedCopies implements Closeable {

  private static final Logger log = LoggerFactory.getLogger(PinnedCopies.class);

  /** Folder of the pinned store and its index, inside the data folder. */
  public static final String DIR = "pinned";

  private final Store store;
  private final PinIndex index;
  /** One lock per pinned file: its check-then-write steps and its drop never interleave. */
  private final java.util.concurrent.ConcurrentHashMap<Fid, Object> locks = new java.util.concurrent.ConcurrentHashMap<>();

  private PinnedCopies(Store store, PinIndex index) {
    this.store = store;
    this.index = index;
  }

  /** Opens the pinned store beside the originals ({@code <data>/pinned}, slot 0) and its index. */
  public static PinnedCopies open(StoreConfig originals) throws IOException {
    StoreConfig config = originals.withDataDir(originals.dataDir().resolve(DIR)).withSlot(0)
        .withFsyncPolicy(FsyncPolicy.ALWAYS);
    Store store = Store.open(config);
    try {
      PinIndex index = PinIndex.open(config.dataDir());
      long needles = store.stats().liveNeedles();
      if (needles != index.needles()) {
        // a crash between a needle's write and its entry: such needles are never served, but
        // their space is not reclaimed yet (nothing lists a store's needles to find them)
        log.warn("pinned store {} holds {} live needles, its index names {}: {} written before a crash and never"
            + " linked", config.dataDir(), needles, index.needles(), needles - index.needles());
      }
      return new PinnedCopies(store, index);
    } catch (IOException | RuntimeException e) {
      store.close();
      throw e;
    }
  }

  /** Whether {@code fid} is a pinned file (whole) or a pinned piece. */
  public boolean holds(Fid fid) {
    return index.file(fid) != null || index.piece(fid) != null;
  }

  /** Whether {@code file} is pinned whole. */
  public boolean holdsFile(Fid file) {
    return index.file(file) != null;
  }

  /** The indices of {@code file}'s pieces pinned here. */
  public BitSet pieces(Fid file) {
    BitSet have = new BitSet();
    for (PinIndex.PinnedPiece p : index.pieces(file)) {
      have.set(p.index());
    }
    return have;
  }

  /**
   * The pinned file or piece {@code fid}, as its source serves it: a file as its manifest with the
   * original fid, name, type, date and checksum; a piece with its bytes. Null if not pinned.
   *
   * @throws IOException as {@link Store#read}: a needle that fails its check is never returned
   */
  public StoredFile read(Fid fid) throws IOException {
    PinIndex.PinnedFile file = index.file(fid);
    if (file != null) {
      StoredFile manifest = store.read(file.local());
      return manifest == null ? null : new StoredFile(fid, manifest.name(), manifest.mime(), manifest.lastModified(),
          file.checksum(), manifest.data(), true);
    }
    PinIndex.PinnedPiece piece = index.piece(fid);
    if (piece != null) {
      StoredFile bytes = store.read(piece.local());
      return bytes == null ? null : new StoredFile(fid, null, bytes.mime(), bytes.lastModified(), bytes.checksum(),
          bytes.data());
    }
    return null;
  }

  /**
   * Pins a verified piece: its needle, then its entry. A piece pinned already is kept as it is.
   *
   * @param bytes the piece, already checked against the task's SHA-256
   */
  public void putPiece(Fid file, int index, Fid chunk, ByteBuffer bytes) throws IOException {
    synchronized (lock(file)) {
      putPieceLocked(file, index, chunk, bytes);
    }
  }

  private Object lock(Fid file) {
    return locks.computeIfAbsent(file, f -> new Object());
  }

  private void putPieceLocked(Fid file, int index, Fid chunk, ByteBuffer bytes) throws IOException {
    if (this.index.piece(chunk) != null) {
      return;
    }
    WriteResult written = await(store.write(new NewFile(null, "application/octet-stream", System.currentTimeMillis(),
        List.of(bytes.duplicate()))));
    try {
      this.index.append(new PinIndexCodec.Piece(file, chunk, written.fid(), index));
    } catch (IOException | RuntimeException e) {
      store.delete(written.fid());
      throw e;
    }
  }

  /**
   * Pins a file whose every piece is pinned: its manifest as a needle with the original's name,
   * type and date, then its FILE entry. From then on {@link #read} serves it.
   *
   * @param checksum the original manifest needle's CRC32C (its ETag)
   */
  public void putFile(Fid file, ByteBuffer manifest, String name, String mime, long lastModified, int checksum)
      throws IOException {
    synchronized (lock(file)) {
      putFileLocked(file, manifest, name, mime, lastModified, checksum);
    }
  }

  private void putFileLocked(Fid file, ByteBuffer manifest, String name, String mime, long lastModified,
                             int checksum) throws IOException {
    if (index.file(file) != null) {
      return;
    }
    WriteResult written = await(store.write(new NewFile(name, mime, lastModified, List.of(manifest.duplicate()),
        true)));
    try {
      index.append(new PinIndexCodec.File(file, written.fid(), checksum));
    } catch (IOException | RuntimeException e) {
      store.delete(written.fid());
      throw e;
    }
  }

  /** Ends the pin of {@code file}: its DROP entry, then the deletion of its needles. */
  public void drop(Fid file) throws IOException {
    synchronized (lock(file)) {
      dropLocked(file);
    }
  }

  private void dropLocked(Fid file) throws IOException {
    List<Fid> needles = new ArrayList<>();
    for (PinIndex.PinnedPiece p : index.pieces(file)) {
      needles.add(p.local());
    }
    PinIndex.PinnedFile pinned = index.file(file);
    if (pinned != null) {
      needles.add(pinned.local());
    }
    if (needles.isEmpty()) {
      return;
    }
    index.append(new PinIndexCodec.Drop(file));
    List<CompletableFuture<Boolean>> deletions = new ArrayList<>();
    for (Fid needle : needles) {
      deletions.add(store.delete(needle));
    }
    await(CompletableFuture.allOf(deletions.toArray(CompletableFuture[]::new)));
  }

  /** The pinned store (for its figures). */
  public Store store() {
    return store;
  }

  private static <T> T await(CompletableFuture<T> future) throws IOException {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while writing a pinned copy");
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException("the pinned store failed", e.getCause());
    }
  }

  /** Closes the index, then the store. */
  @Override
  public void close() throws IOException {
    try {
      index.close();
    } finally {
      store.close();
    }
  }
}
