package dev.wimg.storage.internal;

import dev.wimg.protocol.Fid;
import dev.wimg.storage.AppendListener;
import dev.wimg.storage.CopyReplacement;
import dev.wimg.storage.CopyRevisionException;
import dev.wimg.storage.CorruptNeedleException;
import dev.wimg.storage.FsyncPolicy;
import dev.wimg.storage.VolumeReadException;
import dev.wimg.storage.NewFile;
import dev.wimg.storage.Store;
import dev.wimg.storage.StoreConfig;
import dev.wimg.storage.StoreStats;
import dev.wimg.storage.StoredFile;
import dev.wimg.storage.VerifyReport;
import dev.wimg.storage.WriteResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine behind {@link Store}: volumes of one group in one folder, one writer thread that
 * appends, fsyncs and publishes batches (see {@link GroupCommitWriter}), reads from memory-mapped
 * volumes on the caller's thread.
 *
 * <p>Thread-safety: {@link #volumes} is a concurrent map; volumes are added only by the writer
 * thread (and by {@link #open} before the writer starts). {@link #active} is written by the writer
 * only. Reads never take a lock: see {@link Volume} and {@link NeedleIndex}.
 */
public final class LocalStore implements Store {

  private static final Logger LOG = LoggerFactory.getLogger(LocalStore.class);

  private final StoreConfig config;
  private final Path dir;
  private final ConcurrentSkipListMap<Integer, Volume> volumes = new ConcurrentSkipListMap<>();
  /** The volume new needles go to, or null before the first write. Written by the writer only. */
  private volatile Volume active;
  private final GroupCommitWriter writer;
  private final VacuumScheduler vacuums;
  private final ResidencyScanner residency;
  /** Held from open to close so that no second store appends to these volumes. */
  private final DataDirLock lock;
  /** Set by the first {@link #close}; later calls return at once. */
  private final AtomicBoolean closing = new AtomicBoolean();

  /** Told of appends to this store's own volumes, or null. */
  private final AppendListener appendListener;
  /** Volumes with a {@link VolumeReplacement} under way. */
  private final Set<Integer> replacing = ConcurrentHashMap.newKeySet();

  private LocalStore(StoreConfig config, DataDirLock lock, AppendListener appendListener) {
    this.config = config;
    this.appendListener = appendListener;
    this.lock = lock;
    this.dir = config.dataDir();
    this.writer = new GroupCommitWriter(this, config);
    this.vacuums = new VacuumScheduler(this, writer, config);
    this.residency = new ResidencyScanner(this);
  }

  /** Opens (and recovers) the volumes in {@code config.dataDir()}. */
  public static Store open(StoreConfig config) throws IOException {
    return open(config, null);
  }

  /** As {@link #open(StoreConfig)}, with a listener of appends to its own volumes (or null). */
  public static Store open(StoreConfig config, AppendListener listener) throws IOException {
    Files.createDirectories(config.dataDir());
    DataDirLock lock = DataDirLock.acquire(config.dataDir());
    LocalStore store = new LocalStore(config, lock, listener);
    try {
      store.load();
    } catch (IOException | RuntimeException e) {
      try {
        lock.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    store.writer.start();
    store.residency.start();
    // A volume already over the garbage threshold (a vacuum cut short by a crash, a threshold
    // lowered since) would otherwise wait for its next delete.
    for (Volume v : store.volumes()) {
      store.vacuums.garbageGrew(v);
    }
    return store;
  }

  /** Checks every needle of every volume under {@code dataDir} without changing anything. */
  public static VerifyReport verify(Path dataDir) throws IOException {
    return VolumeChecker.check(dataDir);
  }

  private void load() throws IOException {
    List<VolumeFiles> found = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path p : files) {
        String name = p.getFileName().toString();
        if (name.endsWith(VolumeFiles.COMPACT_SUFFIX)) {
          LOG.warn("deleting {} left by an interrupted vacuum", p);
          Files.deleteIfExists(p);
          continue;
        }
        if (name.endsWith(VolumeFiles.CREATING_SUFFIX)) {
          LOG.warn("deleting {} left by an interrupted volume creation", p);
          Files.deleteIfExists(p);
          continue;
        }
        VolumeFiles vf = VolumeFiles.parse(dir, name);
        if (vf != null) {
          if (vf.group() != config.group()) {
            throw new VolumeFormatException(p + " belongs to group " + vf.group()
                + ", this store is group " + config.group());
          }
          found.add(vf);
        }
      }
    }
    found.sort((a, b) -> Integer.compare(a.volume(), b.volume()));
    if (!found.isEmpty() && Files.size(found.getLast().dat()) < Superblock.SIZE) {
      // Older builds created a volume in place: a crash before its superblock was durable left a
      // .dat too short to hold any needle (they start after the superblock). Nothing is lost by
      // removing it; any other short .dat is damage and stops the open (VolumeFormatException).
      VolumeFiles interrupted = found.removeLast();
      LOG.warn("deleting {} ({} bytes, shorter than a superblock): left by an interrupted volume "
          + "creation", interrupted.dat(), Files.size(interrupted.dat()));
      Files.delete(interrupted.dat());
      Files.deleteIfExists(interrupted.idx());
      VolumeFiles.fsyncDirectory(dir);
    }
    try {
      for (VolumeFiles vf : found) {
        Volume v = VolumeLoader.open(vf);
        volumes.put(v.id, v);
      }
    } catch (IOException | RuntimeException e) {
      for (Volume v : volumes.values()) {
        try {
          v.generation().closeChannels();
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
    if (!volumes.isEmpty()) {
      // Only a volume of this node's own slot may take needles (docs/CLUSTER.md, "Fids without a
      // central allocator"): the newest of them continues, every other volume is sealed.
      Volume last = lastOfOwnSlot();
      for (Volume v : volumes.values()) {
        // A vacuumed volume stays sealed: keys of needles deleted and vacuumed away are not on
        // disk any more, so it could not go on assigning keys that were never used.
        boolean full = v != last || v.end >= config.volumeSizeLimit() || v.generation().revision > 0;
        if (v.failed) {
          v.sealed = true; // leave its bytes as they are for verify and repair
        } else if (full) {
          writer.seal(v);
        }
      }
      active = last == null || last.readOnly() ? null : last;
      if (appendListener != null && last != null && !last.readOnly()) {
        // Its copies may hold a tail a power loss cut here (see AppendListener): never append
        // after it. The first write opens the next volume.
        writer.seal(last);
        active = null;
      }
    }
    LOG.info("opened {} volume(s) in {}", volumes.size(), dir);
  }

  // ---- used by the writer thread ----

  Volume volume(int id) {
    return volumes.get(id);
  }

  Collection<Volume> volumes() {
    return volumes.values();
  }

  Volume activeVolume() {
    return active;
  }

  /** The newest volume of this node's slot, or null when it has none yet. */
  private Volume lastOfOwnSlot() {
    var own = volumes.lowerEntry(config.volumeId(1) + StoreConfig.VOLUMES_PER_SLOT);
    return own == null || StoreConfig.slotOf(own.getKey()) != config.slot() ? null
        : own.getValue();
  }

  /**
   * Creates the next volume of this node's slot, {@code (slot << 16) | n} with n one more than
   * the slot's newest, and makes it the active one. Writer thread only.
   */
  Volume createVolume() throws IOException {
    Volume last = lastOfOwnSlot();
    int n = last == null ? 1 : (last.id & StoreConfig.VOLUMES_PER_SLOT) + 1;
    if (n > StoreConfig.VOLUMES_PER_SLOT) {
      throw new IOException("no volume ids left in slot " + config.slot() + ": "
          + StoreConfig.VOLUMES_PER_SLOT + " in use");
    }
    int id = config.volumeId(n);
    Volume v = VolumeLoader.create(new VolumeFiles(dir, config.group(), id), 0);
    volumes.put(id, v);
    active = v;
    LOG.info("opened new {}", v);
    return v;
  }

  /**
   * Creates the copy of a peer's volume {@code id}, starting with the superblock of the original.
   * Writer thread only. It takes no needles of this store (sealed), only copies.
   */
  Volume createCopy(int id, Superblock superblock) throws IOException {
    Volume v = VolumeLoader.create(new VolumeFiles(dir, config.group(), id), superblock);
    v.sealed = true;
    volumes.put(id, v);
    LOG.info("opened new copy {}", v);
    return v;
  }

  /** Stops new needles going to {@code v} (sealed for a vacuum). Writer thread only. */
  void retireActive(Volume v) {
    if (active == v) {
      active = null;
    }
  }

  AppendListener appendListener() {
    return appendListener;
  }

  void garbageGrew(Volume v) {
    vacuums.garbageGrew(v);
  }

  Path dir() {
    return dir;
  }

  // ---- Store ----

  @Override
  public CompletableFuture<WriteResult> write(NewFile file) {
    CompletableFuture<WriteResult> f = new CompletableFuture<>();
    writer.submit(new GroupCommitWriter.WriteOp(file, f, null));
    return f;
  }

  @Override
  public CompletableFuture<WriteResult> write(NewFile file, Executor completer) {
    CompletableFuture<WriteResult> f = new CompletableFuture<>();
    writer.submit(new GroupCommitWriter.WriteOp(file, f, Objects.requireNonNull(completer, "completer")));
    return f;
  }

  @Override
  public StoredFile read(Fid fid) throws IOException {
    if (writer.closed()) {
      throw new IOException("store is closed");
    }
    if (fid.group() != config.group()) {
      return null;
    }
    Volume v = volumes.get(fid.volume());
    if (v == null) {
      return null;
    }
    Needle n = v.read(fid.key(), fid.cookie());
    if (n == null) {
      return null;
    }
    return new StoredFile(fid, n.name(), n.mime(), n.header().lastModified(), n.checksum(), n.data(),
        n.header().manifest());
  }

  @Override
  public boolean isResident(Fid fid) {
    if (fid.group() != config.group()) {
      return true;
    }
    Volume v = volumes.get(fid.volume());
    return v == null || v.isResident(fid.key());
  }

  @Override
  public long keyLimit(int volumeId) {
    Volume v = volumes.get(volumeId);
    return v == null ? 0 : v.generation().index.keyLimit();
  }

  @Override
  public CompletableFuture<Boolean> delete(Fid fid) {
    CompletableFuture<Boolean> f = new CompletableFuture<>();
    writer.submit(new GroupCommitWriter.DeleteOp(fid, f));
    return f;
  }

  @Override
  public CompletableFuture<Long> copy(int volumeId, int revision, long offset, ByteBuffer bytes) {
    CompletableFuture<Long> f = new CompletableFuture<>();
    writer.submit(new GroupCommitWriter.CopyOp(volumeId, revision, offset, bytes, f));
    return f;
  }

  @Override
  public ByteBuffer readRecords(int volumeId, int revision, long from, int maxBytes) throws IOException {
    if (writer.closed()) {
      throw new IOException("store is closed");
    }
    Volume v = volumes.get(volumeId);
    if (v == null) {
      return null;
    }
    // The generation first, then the length: a swap publishes the length of its new generation
    // before the generation itself, so the length read here is never longer than g's records
    // (it may be shorter, a prefix of g: still g's bytes at g's offsets).
    Volume.Generation g = v.generation();
    if (g.revision != revision) {
      throw new CopyRevisionException(volumeId, revision, g.revision);
    }
    long end = v.publishedEnd;
    if (from > end || from < 0) {
      throw new IOException(v + " is " + end + " bytes long; cannot read from " + from);
    }
    MemorySegment m = g.mapping;
    long at = from == 0 ? Superblock.SIZE : from;
    long to = at;
    try {
      while (to < end) {
        NeedleHeader h = NeedleCodec.decodeHeader(m, to, end, v.id);
        if (to > at && to + h.recordLength() - from > maxBytes) {
          break;
        }
        to += h.recordLength();
      }
      // pread, not a copy through the mapping: a peer catching up reads cold data, which the
      // kernel's readahead brings in far faster than page faults do
      ByteBuffer copy = ByteBuffer.allocate(Math.toIntExact(to - from));
      try {
        IndexLog.readFully(g.dat, copy, from);
      } catch (ClosedChannelException swapped) {
        // a swap closed g's files after publishing the next revision
        if (v.generation() != g) {
          throw new CopyRevisionException(volumeId, revision, v.generation().revision);
        }
        throw swapped;
      }
      return copy.flip();
    } catch (InternalError fault) {
      throw new VolumeReadException(v.id, to, fault);
    }
  }

  @Override
  public CopyReplacement replaceCopy(int volumeId, int revision) throws IOException {
    if (writer.closed()) {
      throw new IOException("store is closed");
    }
    Volume v = volumes.get(volumeId);
    if (v == null) {
      throw new IllegalArgumentException("no copy of volume " + volumeId + " here to replace");
    }
    if (StoreConfig.slotOf(volumeId) == config.slot()) {
      throw new IllegalArgumentException(v + " is this store's own: its writer does not replace it");
    }
    if (v.generation().revision >= revision) {
      throw new IllegalArgumentException(v + " is at revision " + v.generation().revision
          + " here, not older than " + revision);
    }
    if (!replacing.add(volumeId)) {
      throw new IllegalArgumentException(v + " is being replaced already");
    }
    try {
      return new VolumeReplacement(this, writer, v, revision, () -> replacing.remove(volumeId));
    } catch (IOException | RuntimeException e) {
      replacing.remove(volumeId);
      throw e;
    }
  }

  @Override
  public CompletableFuture<Void> repair(int volumeId, long offset, ByteBuffer record) {
    CompletableFuture<Object> done = new CompletableFuture<>();
    writer.submit(new GroupCommitWriter.TaskOp(() -> {
      repairOnWriter(volumeId, offset, record.duplicate());
      return null;
    }, done));
    return done.thenApply(ignored -> null);
  }

  /** {@link #repair}, on the writer thread: no append overlaps it. */
  private void repairOnWriter(int volumeId, long offset, ByteBuffer record) throws IOException {
    Volume v = volumes.get(volumeId);
    if (v == null) {
      throw new IOException("no volume " + volumeId + " to repair");
    }
    long end = offset + record.remaining();
    if (offset < Superblock.SIZE || end > v.publishedEnd) {
      throw new IOException(v + ": [" + offset + ", " + end + ") is not within its records");
    }
    MemorySegment seg = MemorySegment.ofBuffer(record);
    NeedleHeader h = NeedleCodec.decodeHeaderCopy(seg, offset, offset, end, v.id);
    NeedleCodec.decodeBodyCopy(seg, offset, offset, h, v.id);
    if (h.recordLength() != record.remaining()) {
      throw new CorruptNeedleException(v.id, offset, "a repair must be one record of "
          + h.recordLength() + " bytes, got " + record.remaining());
    }
    Volume.Generation g = v.generation();
    if (h.tombstone() || Integer.toUnsignedLong(g.index.get(h.key())) << NeedleCodec.ALIGNMENT_SHIFT != offset) {
      throw new IOException(v + ": the index does not name offset " + offset + " for key "
          + h.key() + ": the record does not belong there");
    }
    IndexLog.writeFully(g.dat, record, offset);
    g.dat.force(false);
    g.damaged.remove(h.key());
    LOG.warn("{}: record of key {} at offset {} rewritten from a peer's copy", v, h.key(), offset);
  }

  @Override
  public CompletableFuture<Long> vacuum(int volumeId) {
    return vacuums.vacuum(volumeId);
  }

  @Override
  public StoreStats stats() {
    List<StoreStats.VolumeStats> list = new ArrayList<>(volumes.size());
    for (Volume v : volumes.values()) {
      list.add(v.stats());
    }
    long free;
    try {
      free = Files.getFileStore(dir).getUsableSpace();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read free space of " + dir, e);
    }
    return new StoreStats(List.copyOf(list), free);
  }

  /**
   * Whether durable appends are released from the page cache: configured, the fsync policy makes
   * them durable, and {@code posix_fadvise} can be called.
   */
  boolean releasesWrittenPages() {
    return config.releaseWrittenPages() && config.fsyncPolicy() != FsyncPolicy.NEVER
        && Libc.INSTANCE.isPresent();
  }

  @Override
  public StoreConfig config() {
    return config;
  }

  /** Fsyncs of volume data issued for write batches since open (group commit: fewer than writes). */
  public long fsyncs() {
    return writer.fsyncs();
  }

  /** Write batches processed since open. */
  public long batches() {
    return writer.batches();
  }

  @Override
  public void close() throws IOException {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    vacuums.close();
    residency.stop();
    CompletableFuture<Void> done = new CompletableFuture<>();
    writer.submit(new GroupCommitWriter.CloseOp(done));
    try {
      done.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while closing the store", e);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    } finally {
      lock.close();
    }
  }
}
