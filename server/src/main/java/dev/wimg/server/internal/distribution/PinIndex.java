package dev.wimg.server.internal.distribution;

import dev.wimg.protocol.Fid;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which needles of the pinned store hold which pinned files and pieces: the live entries of the
 * log {@link PinIndexCodec} describes, in memory (a few dozen bytes per 8 MiB piece), and the log
 * itself, appended and forced before an entry counts.
 *
 * <p>Thread-safe: lookups read concurrent maps; appends are serialised.
 */
final class PinIndex implements Closeable {

  private static final Logger log = LoggerFactory.getLogger(PinIndex.class);

  static final String FILE_NAME = "pins.log";

  /** A pinned piece: its file, its index there and the local needle. */
  record PinnedPiece(Fid file, int index, Fid local) {}

  /** A pinned file whose every piece is here: its manifest's local needle and ETag checksum. */
  record PinnedFile(Fid local, int checksum) {}

  private final FileChannel channel;
  private final Map<Fid, PinnedPiece> pieces = new ConcurrentHashMap<>();
  private final Map<Fid, PinnedFile> files = new ConcurrentHashMap<>();
  private long end;

  private PinIndex(FileChannel channel) {
    this.channel = channel;
  }

  /** Opens (or creates) the log in {@code dir}, replays it and cuts off a torn tail. */
  static PinIndex open(Path dir) throws IOException {
    FileChannel channel = FileChannel.open(dir.resolve(FILE_NAME), StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
    try {
      PinIndex index = new PinIndex(channel);
      index.load(dir);
      return index;
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  private void load(Path dir) throws IOException {
    long size = channel.size();
    if (size <= PinIndexCodec.HEADER_SIZE && size > 0) {
      // no entry is appended before the header is forced, so a file this short holds none: it is
      // the header's first write cut off by a crash (or left as zeros by the file system)
      ByteBuffer head = ByteBuffer.allocate((int) size);
      channel.read(head, 0);
      boolean zeros = true;
      for (int i = 0; i < head.position(); i++) {
        zeros &= head.get(i) == 0;
      }
      if (size < PinIndexCodec.HEADER_SIZE || zeros) {
        log.warn("pin index {} holds a cut-off header and no entries ({} bytes): writing it again",
            dir.resolve(FILE_NAME), size);
        channel.truncate(0);
        size = 0;
      }
    }
    if (size == 0) {
      channel.write(PinIndexCodec.header(), 0);
      channel.force(true);
      end = PinIndexCodec.HEADER_SIZE;
      return;
    }
    if (size > Integer.MAX_VALUE) {
      throw new IOException("pin index " + dir.resolve(FILE_NAME) + " is " + size + " bytes, more than it can be");
    }
    ByteBuffer data = ByteBuffer.allocate((int) size);
    while (data.hasRemaining() && channel.read(data, data.position()) >= 0) {
      // read it all
    }
    data.flip();
    String problem = PinIndexCodec.headerProblem(data);
    if (problem != null) {
      throw new IOException("pin index " + dir.resolve(FILE_NAME) + ": " + problem);
    }
    int at = PinIndexCodec.HEADER_SIZE;
    while (at < data.limit()) {
      PinIndexCodec.Decoded decoded;
      try {
        decoded = PinIndexCodec.decode(data, at);
      } catch (PinIndexCodec.BadEntryException e) {
        log.warn("{}; cutting the pin index there ({} bytes after it): the torn tail of a crash", e.getMessage(),
            data.limit() - at);
        channel.truncate(at);
        channel.force(true);
        break;
      }
      apply(decoded.entry());
      at += decoded.length();
    }
    end = Math.min(at, data.limit());
  }

  private void apply(PinIndexCodec.Entry entry) {
    switch (entry) {
      case PinIndexCodec.Piece p -> pieces.put(p.chunk(), new PinnedPiece(p.file(), p.index(), p.local()));
      case PinIndexCodec.File f -> files.put(f.file(), new PinnedFile(f.local(), f.checksum()));
      case PinIndexCodec.Drop d -> {
        files.remove(d.file());
        pieces.values().removeIf(p -> p.file().equals(d.file()));
      }
    }
  }

  /** Appends {@code entry}, forces it, then applies it. */
  synchronized void append(PinIndexCodec.Entry entry) throws IOException {
    ByteBuffer bytes = PinIndexCodec.encode(entry);
    int n = bytes.remaining();
    while (bytes.hasRemaining()) {
      channel.write(bytes, end + (n - bytes.remaining()));
    }
    channel.force(false);
    end += n;
    apply(entry);
  }

  /** The piece whose chunk at the source is {@code chunk}, or null. */
  PinnedPiece piece(Fid chunk) {
    return pieces.get(chunk);
  }

  /** The pinned file {@code file}, once every piece of it is here; or null. */
  PinnedFile file(Fid file) {
    return files.get(file);
  }

  /** The pinned pieces of {@code file}. */
  List<PinnedPiece> pieces(Fid file) {
    List<PinnedPiece> out = new ArrayList<>();
    for (PinnedPiece p : pieces.values()) {
      if (p.file().equals(file)) {
        out.add(p);
      }
    }
    return out;
  }

  /** Needles the live entries name: each piece and each file's manifest. */
  int needles() {
    return pieces.size() + files.size();
  }

  @Override
  public synchronized void close() throws IOException {
    channel.close();
  }
}
