package dev.wimg.server.internal.derived;

import dev.wimg.storage.CorruptNeedleException;
import dev.wimg.storage.VolumeReadException;
import dev.wimg.storage.NewFile;
import dev.wimg.storage.Store;
import dev.wimg.storage.StoreConfig;
import dev.wimg.storage.StoredFile;
import dev.wimg.storage.WriteResult;
import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the derived store and its {@link DerivedIndex} so that they agree: every live needle of
 * the store is the derived picture of exactly one live link, so that the space the index counts
 * against the cap is the space the store holds.
 *
 * <p><b>How they can disagree.</b> A derived needle is written before its ADD is appended, and a
 * link's REMOVE is appended before its needle is deleted (see {@link DerivedPictures}). A crash
 * between the two steps, an ADD cut off as the torn tail of the log, or an append that fails
 * leaves a needle that no link accounts for: an orphan, outside the cap, never served and never
 * deleted. The other way round (a link without its needle) needs damage from outside, or a log
 * written by an earlier version, which tombstoned first.
 *
 * <p><b>Detection</b> costs nothing: the store's count of live needles must equal the index's
 * count of links; with the write order above, every link has its needle, so equal counts mean no
 * orphan. (A link that lost its needle and an orphan would cancel out; only outside damage makes
 * the first, and such a link is dropped when read.)
 *
 * <p><b>Repair.</b> The store has no way to list its needles (and deleting one needs its
 * cookie), so an orphan cannot be found by itself; instead the derived store is rebuilt from the
 * links: each linked needle is read (CRC-checked; gone or corrupt ones are dropped) and written
 * to a new store in {@code derived.rebuild}, then a log of the new links is written there in the
 * same recency order. Orphans are thus deleted, not adopted: nothing on them says which original
 * and transform they belong to. This reads and writes at most the derived cap once, only after a
 * crash left an orphan.
 *
 * <p><b>Crash safety of the repair.</b> {@code derived.rebuild} becomes {@code derived.ready} by
 * an atomic rename once complete and forced; then {@code derived} is deleted and
 * {@code derived.ready} renamed to it. On every open, a leftover {@code derived.rebuild} (an
 * interrupted rebuild) is deleted, and a leftover {@code derived.ready} (a complete one) finishes
 * the swap, so a crash at any step leaves either the old derived store or the new one.
 */
final class DerivedStoreLoader {

  private static final Logger log = LoggerFactory.getLogger(DerivedStoreLoader.class);

  /** Suffix of the folder a rebuild writes to, next to the derived folder. */
  static final String REBUILD_SUFFIX = ".rebuild";
  /** Suffix of a complete rebuild waiting to replace the derived folder. */
  static final String READY_SUFFIX = ".ready";
  /** Needles copied per batch during a rebuild: their writes share a group commit. */
  private static final int COPY_BATCH = 64;

  /** The derived store and its index, in agreement. */
  record Loaded(Store store, DerivedIndex index) {}

  private DerivedStoreLoader() {
  }

  /**
   * Opens the derived store configured by {@code config} and the index in the same folder,
   * rebuilding them first if they disagree (see the class Javadoc).
   *
   * @param fsync whether every index append is forced to disk
   */
  static Loaded open(StoreConfig config, boolean fsync) throws IOException {
    Path dir = config.dataDir();
    Path rebuild = sibling(dir, REBUILD_SUFFIX);
    Path ready = sibling(dir, READY_SUFFIX);
    finishSwap(dir, rebuild, ready);
    Loaded loaded = openBoth(config, fsync);
    long needles = loaded.store().stats().liveNeedles();
    int links = loaded.index().count();
    if (needles == links) {
      return loaded;
    }
    log.warn("derived store {} holds {} live needles but its index links {}: rebuilding it from the links",
        dir, needles, links);
    try {
      copyLinked(loaded, config.withDataDir(rebuild));
    } finally {
      closeBoth(loaded);
    }
    forceFolder(rebuild);
    Files.move(rebuild, ready, StandardCopyOption.ATOMIC_MOVE);
    forceFolder(dir.getParent());
    finishSwap(dir, rebuild, ready);
    Loaded rebuilt = openBoth(config, fsync);
    log.info("derived store {} rebuilt: {} live needles, {} links, {} bytes", dir,
        rebuilt.store().stats().liveNeedles(), rebuilt.index().count(), rebuilt.index().bytes());
    return rebuilt;
  }

  /** Copies every linked needle that still reads back, and a log of the new links, into {@code to}. */
  private static void copyLinked(Loaded from, StoreConfig to) throws IOException {
    deleteTree(to.dataDir());
    List<DerivedIndex.Link> copied = new ArrayList<>();
    try (Store target = Store.open(to)) {
      List<DerivedIndex.Link> links = from.index().links();
      for (int start = 0; start < links.size(); start += COPY_BATCH) {
        copyBatch(from.store(), target, links.subList(start, Math.min(links.size(), start + COPY_BATCH)), copied);
      }
    }
    DerivedIndex.writeLog(to.dataDir().resolve(DerivedIndex.FILE_NAME), copied);
  }

  private static void copyBatch(Store source, Store target, List<DerivedIndex.Link> batch,
                                List<DerivedIndex.Link> copied) throws IOException {
    List<StoredFile> files = new ArrayList<>(batch.size());
    List<CompletableFuture<WriteResult>> writes = new ArrayList<>(batch.size());
    for (DerivedIndex.Link link : batch) {
      StoredFile file;
      try {
        file = source.read(link.derived());
        if (file == null) {
          log.warn("derived picture {} of {} is gone; dropping its link", link.derived(), link.key().original());
        }
      } catch (CorruptNeedleException | VolumeReadException e) {
        log.warn("derived picture {} of {} cannot be read; dropping it: {}", link.derived(), link.key().original(),
            e.getMessage());
        file = null;
      }
      files.add(file);
      writes.add(file == null ? null : target.write(new NewFile(null, link.mime(), file.lastModified(),
          List.of(file.data()))));
    }
    for (int i = 0; i < batch.size(); i++) {
      if (writes.get(i) == null) {
        continue;
      }
      WriteResult written;
      try {
        written = writes.get(i).get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while rebuilding the derived store", e);
      } catch (ExecutionException e) {
        throw new IOException("rebuilding the derived store failed", e.getCause());
      }
      DerivedIndex.Link link = batch.get(i);
      copied.add(new DerivedIndex.Link(link.key(), written.fid(), link.originalChecksum(), written.size(),
          link.mime()));
    }
    // the source mappings behind the writes stay valid until every write of the batch is done
    Reference.reachabilityFence(files);
  }

  /** Deletes an interrupted rebuild; puts a complete one in place of the derived folder. */
  private static void finishSwap(Path dir, Path rebuild, Path ready) throws IOException {
    if (Files.exists(rebuild)) {
      log.warn("deleting {}, an interrupted rebuild of the derived store", rebuild);
      deleteTree(rebuild);
    }
    if (Files.exists(ready)) {
      deleteTree(dir);
      Files.move(ready, dir, StandardCopyOption.ATOMIC_MOVE);
      forceFolder(dir.getParent());
    }
  }

  private static Loaded openBoth(StoreConfig config, boolean fsync) throws IOException {
    Store store = Store.open(config);
    try {
      return new Loaded(store, DerivedIndex.open(config.dataDir(), fsync));
    } catch (IOException | RuntimeException e) {
      store.close();
      throw e;
    }
  }

  private static void closeBoth(Loaded loaded) throws IOException {
    try {
      loaded.index().close();
    } finally {
      loaded.store().close();
    }
  }

  private static Path sibling(Path dir, String suffix) {
    return dir.resolveSibling(dir.getFileName() + suffix);
  }

  /** Deletes {@code root} and everything under it, if it exists. */
  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    List<Path> paths;
    try (Stream<Path> walk = Files.walk(root)) {
      paths = walk.sorted(Comparator.reverseOrder()).toList();
    }
    for (Path path : paths) {
      Files.deleteIfExists(path);
    }
  }

  private static void forceFolder(Path folder) throws IOException {
    try (FileChannel channel = FileChannel.open(folder, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }
}
