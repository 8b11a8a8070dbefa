package dev.wimg.server.internal.derived;

import dev.wimg.protocol.Fid;
import dev.wimg.storage.FsyncPolicy;
import dev.wimg.storage.NewFile;
import dev.wimg.storage.Store;
import dev.wimg.storage.StoreConfig;
import dev.wimg.storage.WriteResult;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The derived pictures on disk: needles of a second store, {@code <data>/derived}, and the
 * {@link DerivedIndex} that links each to its original and transform, kept in agreement.
 *
 * <p>Order of writes between the store and its index: a needle is written before its ADD, and a
 * link's REMOVE is logged before its needle is deleted. A crash between two steps can so only
 * leave a needle without a link (never served), which the next start finds and deletes; see
 * {@link DerivedStoreLoader}.
 *
 * <p>Thread-safe, as its parts are. {@link #save} and {@link #dropOriginal(Fid)} block on the disk:
 * call them from a worker or the blocking pool, never from an event loop.
 */
public final class DerivedPictures implements Closeable {

  private static final Logger log = LoggerFactory.getLogger(DerivedPictures.class);

  /** Folder of the derived store and its index, inside the data folder. */
  public static final String DIR = "derived";

  private final Store store;
  private final DerivedIndex index;

  private DerivedPictures(Store store, DerivedIndex index) {
    this.store = store;
    this.index = index;
  }

  /**
   * Opens the derived store beside the originals ({@code <originals' data>/derived}, same group
   * and settings, slot 0) and its index, reconciled by {@link DerivedStoreLoader}. Index appends
   * are forced to disk when the originals' writes are ({@link FsyncPolicy#ALWAYS}).
   */
  public static DerivedPictures open(StoreConfig originals) throws IOException {
    // Derived pictures are this node's own cache, never copied to another member: their volume
    // ids need no slot, and slot 0 keeps the ones of folders made before slots going.
    DerivedStoreLoader.Loaded loaded = DerivedStoreLoader.open(
        originals.withDataDir(originals.dataDir().resolve(DIR)).withSlot(0),
        originals.fsyncPolicy() == FsyncPolicy.ALWAYS);
    return new DerivedPictures(loaded.store(), loaded.index());
  }

  /** The store of derived pictures. */
  public Store store() {
    return store;
  }

  /** The derived picture of {@code key} on disk, marked most recently used, or null. */
  public DerivedIndex.Link lookup(TransformKey key) {
    return index.lookup(key);
  }

  /**
   * Saves a derived picture as a needle and links it; the least recently used pictures beyond
   * {@code capBytes} are then deleted. A picture larger than the cap alone is not saved.
   *
   * <p>If the needle was written but could not be linked, it is deleted again before the failure
   * is thrown (no ADD accounts for it), rather than left to the next start.
   *
   * @param originalChecksum the original's checksum, from which the picture's ETag derives
   * @param data             the picture's bytes; read, not consumed
   * @return whether the picture was saved and linked
   * @throws ExecutionException if the store refused the needle
   */
  public boolean save(TransformKey key, int originalChecksum, ByteBuffer data, String mime, long capBytes)
      throws IOException, ExecutionException, InterruptedException {
    long size = data.remaining();
    if (size > capBytes) {
      return false;
    }
    WriteResult written = store.write(new NewFile(null, mime, System.currentTimeMillis(),
        List.of(data.duplicate()))).get();
    List<DerivedIndex.Link> dropped;
    try {
      dropped = index.add(new DerivedIndex.Link(key, written.fid(), originalChecksum, written.size(), mime),
          capBytes);
    } catch (IOException | RuntimeException e) {
      store.delete(written.fid());
      throw e;
    }
    drop(dropped);
    return true;
  }

  /** Forgets a link whose needle was found gone (deleted under it): the next request recomputes. */
  public void forget(DerivedIndex.Link link) {
    if (index.unlink(link)) {
      log.warn("derived picture {} of {} is gone from the derived store; recomputing", link.derived(),
          link.key().original());
      try {
        index.logRemovals(List.of(link));
      } catch (IOException e) {
        log.error("logging the removal of derived picture {} failed", link.derived(), e);
      }
    }
  }

  /** Unlinks and deletes every derived picture of {@code original}, waiting for the deletions. */
  public void dropOriginal(Fid original) throws IOException {
    drop(index.removeOriginal(original));
  }

  /**
   * Unlinks every derived picture of {@code original} now and deletes them on {@code blocking}.
   *
   * @return completes once they are deleted; exceptionally if {@code blocking} refused the task
   *     or a deletion failed
   */
  public CompletableFuture<Void> dropOriginal(Fid original, Executor blocking) {
    List<DerivedIndex.Link> links = index.removeOriginal(original);
    if (links.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    try {
      return CompletableFuture.runAsync(() -> {
        try {
          drop(links);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }, blocking);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Logs the removal of unlinked derived pictures, then deletes their needles. In this order a
   * crash in between leaves needles no link accounts for, which the next start deletes
   * ({@link DerivedStoreLoader}), never a link without its needle.
   */
  private void drop(List<DerivedIndex.Link> links) throws IOException {
    if (links.isEmpty()) {
      return;
    }
    index.logRemovals(links);
    List<CompletableFuture<Boolean>> deletions = new ArrayList<>(links.size());
    for (DerivedIndex.Link link : links) {
      deletions.add(store.delete(link.derived()));
    }
    try {
      CompletableFuture.allOf(deletions.toArray(CompletableFuture[]::new)).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while deleting derived pictures", e);
    } catch (ExecutionException e) {
      throw new IOException("deleting derived pictures failed", e.getCause());
    }
  }

  /** Derived pictures on disk. */
  public int count() {
    return index.count();
  }

  /** Their size, bytes. */
  public long bytes() {
    return index.bytes();
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
