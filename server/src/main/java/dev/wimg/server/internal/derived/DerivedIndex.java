package dev.wimg.server.internal.derived;

import dev.wimg.protocol.Fid;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The links from (original, transform) to derived pictures, in memory and in an append-only log
 * ({@link DerivedIndexCodec}) so that a restart keeps them. Loading replays the log, so its cost
 * follows the number of derived pictures (bounded by the cap), not the number of originals.
 *
 * <p>Recency: links are kept in least-recently-used order ({@link #lookup} and {@link #add} touch
 * them). Replaying the log links them in the order of their ADD entries, so a log whose ADDs are
 * in recency order restores it exactly: {@link #close} rewrites the log that way (its live links
 * only, least recently used first) when anything was looked up or changed since open. After a
 * crash the order is that of the last rewrite, then of the ADDs appended since; a lookup costs no
 * disk write.
 *
 * <p>Thread-safe. The maps are guarded by {@code this} and only held for map operations (event
 * loops call {@link #lookup}); appends to the file are serialised on the channel and never run
 * under the map lock. Lock order: the channel, then {@code this}.
 */
public final class DerivedIndex implements Closeable {

  private static final Logger log = LoggerFactory.getLogger(DerivedIndex.class);

  /** File name of the log inside the derived data folder. */
  static final String FILE_NAME = "derived.log";
  /** Rewrite the log on open when it is larger than this many times its live entries. */
  private static final int COMPACT_RATIO = 2;
  /** ... and larger than this, bytes: small logs are not worth rewriting. */
  static final long COMPACT_MIN_BYTES = 1L << 20;

  /** A live link: the derived picture of {@code key}. */
  public record Link(TransformKey key, Fid derived, int originalChecksum, long size, String mime) {

    DerivedIndexCodec.Add toEntry() {
      return new DerivedIndexCodec.Add(key.original(), derived, originalChecksum, size, key.text(), mime);
    }
  }

  private final Path file;
  private final FileChannel channel;
  private final boolean fsync;
  private final LinkedHashMap<TransformKey, Link> byKey = new LinkedHashMap<>(16, 0.75f, true);
  private final Map<Fid, TransformKey> byDerived = new HashMap<>();
  private final Map<Fid, Set<TransformKey>> byOriginal = new HashMap<>();
  /** Guarded by {@code this}. */
  private long bytes;
  /** Whether recency or links changed since open, so that {@link #close} rewrites the log. Guarded by {@code this}. */
  private boolean changed;

  private DerivedIndex(Path file, FileChannel channel, boolean fsync) {
    this.file = file;
    this.channel = channel;
    this.fsync = fsync;
  }

  /**
   * Opens the log in {@code dir}, creating it if missing, and replays it. A torn or corrupt tail
   * is logged and cut off; a log much larger than its live links is rewritten.
   *
   * @param fsync whether every append is forced to disk before it returns
   */
  static DerivedIndex open(Path dir, boolean fsync) throws IOException {
    Path path = dir.resolve(FILE_NAME);
    Files.createDirectories(dir);
    FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
    DerivedIndex index = new DerivedIndex(path, channel, fsync);
    try {
      index.load();
      if (channel.size() > COMPACT_MIN_BYTES && channel.size() > COMPACT_RATIO * index.liveLogBytes()) {
        return index.compacted();
      }
      return index;
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  private void load() throws IOException {
    long size = channel.size();
    if (size == 0) {
      channel.write(DerivedIndexCodec.header(), 0);
      force();
      return;
    }
    if (size > Integer.MAX_VALUE) {
      throw new IOException(file + " is larger than 2 GiB; delete the derived folder to start over");
    }
    ByteBuffer data = ByteBuffer.allocate((int) size);
    while (data.hasRemaining()) {
      if (channel.read(data, data.position()) < 0) {
        break;
      }
    }
    data.flip();
    try {
      DerivedIndexCodec.checkHeader(data);
    } catch (CorruptDerivedIndexException e) {
      throw new IOException(file + ": " + e.getMessage() + "; delete the derived folder to start over", e);
    }
    int at = DerivedIndexCodec.HEADER_SIZE;
    int entries = 0;
    while (at < data.limit()) {
      DerivedIndexCodec.Decoded decoded;
      try {
        decoded = DerivedIndexCodec.decode(data, at, at);
      } catch (CorruptDerivedIndexException e) {
        log.warn("{}: {}; dropping the last {} bytes", file, e.getMessage(), data.limit() - at);
        channel.truncate(at);
        force();
        break;
      }
      apply(decoded.entry());
      at += decoded.length();
      entries++;
    }
    // replaying is no change: a log that is only read is not rewritten on close
    changed = false;
    log.info("derived index {}: {} entries, {} live links, {} bytes of derived pictures", file, entries,
        byKey.size(), bytes);
  }

  private void apply(DerivedIndexCodec.Entry entry) {
    switch (entry) {
      case DerivedIndexCodec.Add add -> {
        Link link = new Link(TransformKey.fromText(add.original(), add.keyText()), add.derived(),
            add.originalChecksum(), add.size(), add.mime());
        Link replaced = byKey.get(link.key());
        if (replaced != null) {
          unlinkLocked(replaced);
        }
        linkLocked(link);
      }
      case DerivedIndexCodec.Remove remove -> {
        TransformKey key = byDerived.get(remove.derived());
        if (key != null) {
          unlinkLocked(byKey.get(key));
        }
      }
    }
  }

  private long liveLogBytes() {
    long total = DerivedIndexCodec.HEADER_SIZE;
    for (Link link : byKey.values()) {
      total += DerivedIndexCodec.encode(link.toEntry()).remaining();
    }
    return total;
  }

  /** Writes the live links to a new log, swaps it in atomically and returns the index over it. */
  private DerivedIndex compacted() throws IOException {
    long before = channel.size();
    channel.close();
    writeLog(file, byKey.values());
    log.info("derived index {} compacted from {} to {} bytes", file, before, Files.size(file));
    return open(file.getParent(), fsync);
  }

  /**
   * Replaces {@code file} with a log of {@code links} in their iteration order (which replay
   * restores as recency order, first = least recently used): written to {@code file.compact},
   * forced, renamed over {@code file}, then the folder is forced so that the rename is durable. A
   * crash before the rename leaves the old log and a {@code .compact} file that the next write
   * truncates.
   */
  static void writeLog(Path file, Collection<Link> links) throws IOException {
    Path temp = file.resolveSibling(file.getFileName() + ".compact");
    try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE)) {
      out.write(DerivedIndexCodec.header());
      for (Link link : links) {
        ByteBuffer b = DerivedIndexCodec.encode(link.toEntry());
        while (b.hasRemaining()) {
          out.write(b);
        }
      }
      out.force(true);
    }
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel folder = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
      folder.force(true);
    }
  }

  /** The link of {@code key}, marking it most recently used, or null. */
  synchronized Link lookup(TransformKey key) {
    Link link = byKey.get(key);
    if (link != null) {
      changed = true;
    }
    return link;
  }

  /** The live links, least recently used first. */
  synchronized List<Link> links() {
    return List.copyOf(byKey.values());
  }

  /**
   * Links a new derived picture (logged first), then unlinks the least recently used others while
   * the total is over {@code capBytes}; the newest link is never evicted.
   *
   * @return the links unlinked (a previous link of the same key, and evictions): the caller
   *     deletes their needles and then {@link #logRemovals logs their removal}
   */
  List<Link> add(Link link, long capBytes) throws IOException {
    append(DerivedIndexCodec.encode(link.toEntry()));
    List<Link> dropped = new ArrayList<>();
    synchronized (this) {
      Link replaced = byKey.get(link.key());
      if (replaced != null) {
        unlinkLocked(replaced);
        dropped.add(replaced);
      }
      linkLocked(link);
      Iterator<Link> eldest = byKey.values().iterator();
      while (bytes > capBytes && eldest.hasNext()) {
        Link old = eldest.next();
        if (old.equals(link)) {
          break;
        }
        eldest.remove();
        forgetLocked(old);
        dropped.add(old);
      }
    }
    return dropped;
  }

  /** Unlinks every derived picture of {@code original}; returns them (see {@link #add}). */
  synchronized List<Link> removeOriginal(Fid original) {
    Set<TransformKey> keys = byOriginal.get(original);
    if (keys == null) {
      return List.of();
    }
    List<Link> dropped = new ArrayList<>(keys.size());
    for (TransformKey key : List.copyOf(keys)) {
      Link link = byKey.get(key);
      unlinkLocked(link);
      dropped.add(link);
    }
    return dropped;
  }

  /** Unlinks {@code link} if it is still the live link of its key (a needle found gone). */
  synchronized boolean unlink(Link link) {
    if (!link.equals(byKey.get(link.key()))) {
      return false;
    }
    unlinkLocked(link);
    return true;
  }

  /** Appends REMOVE entries for links already unlinked. */
  void logRemovals(List<Link> links) throws IOException {
    if (links.isEmpty()) {
      return;
    }
    List<ByteBuffer> entries = new ArrayList<>(links.size());
    int total = 0;
    for (Link link : links) {
      ByteBuffer b = DerivedIndexCodec.encode(new DerivedIndexCodec.Remove(link.derived()));
      total += b.remaining();
      entries.add(b);
    }
    ByteBuffer all = ByteBuffer.allocate(total);
    entries.forEach(all::put);
    append(all.flip());
  }

  synchronized int count() {
    return byKey.size();
  }

  synchronized long bytes() {
    return bytes;
  }

  private void linkLocked(Link link) {
    changed = true;
    byKey.put(link.key(), link);
    byDerived.put(link.derived(), link.key());
    byOriginal.computeIfAbsent(link.key().original(), k -> new LinkedHashSet<>()).add(link.key());
    bytes += link.size();
  }

  private void unlinkLocked(Link link) {
    byKey.remove(link.key());
    forgetLocked(link);
  }

  /** Removes {@code link} from every map but {@link #byKey}. */
  private void forgetLocked(Link link) {
    changed = true;
    byDerived.remove(link.derived());
    Set<TransformKey> keys = byOriginal.get(link.key().original());
    if (keys != null) {
      keys.remove(link.key());
      if (keys.isEmpty()) {
        byOriginal.remove(link.key().original());
      }
    }
    bytes -= link.size();
  }

  private void append(ByteBuffer entry) throws IOException {
    synchronized (channel) {
      long at = channel.size();
      while (entry.hasRemaining()) {
        at += channel.write(entry, at);
      }
      force();
    }
  }

  private void force() throws IOException {
    if (fsync) {
      channel.force(false);
    }
  }

  /**
   * Rewrites the log in recency order if anything changed since open (see the class Javadoc),
   * then closes it. Links added after this call are not logged (their appends fail): the caller
   * stops its writers first. Idempotent.
   */
  @Override
  public void close() throws IOException {
    synchronized (channel) {
      if (!channel.isOpen()) {
        return;
      }
      List<Link> order;
      synchronized (this) {
        order = changed ? List.copyOf(byKey.values()) : null;
      }
      channel.close();
      if (order != null) {
        writeLog(file, order);
      }
    }
  }
}
