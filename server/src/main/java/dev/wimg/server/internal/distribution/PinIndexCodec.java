package dev.wimg.server.internal.distribution;

import dev.wimg.protocol.Fid;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Byte format of the pin index, {@code <data>/pinned/pins.log}: an append-only log that links the
 * pieces and manifests of pinned copies (needles of the pinned store) to the original fids they
 * are served under. Little-endian, as every WIMG format.
 *
 * <p>Header, once at the start of the file:
 * <pre>
 * offset size type field
 * 0      4    u8[] magic: ASCII "WPIX"
 * 4      2    u16  format version (1)
 * 6      2    u16  reserved, 0
 * </pre>
 *
 * <p>Then entries, each a kind byte, a body whose size the kind fixes, and a CRC:
 * <pre>
 * offset size type field
 * 0      1    u8   kind: 1 = PIECE, 2 = FILE, 3 = DROP
 * 1      B    body (below; B = 46, 32 or 14)
 * 1+B    4    u32  CRC32C of bytes 0 .. 1+B (kind and body)
 * </pre>
 *
 * <p>A fid is 14 bytes: group u16, volume u32, key u32, cookie u32.
 * <pre>
 * PIECE body: a verified piece of a pinned file
 * 0     14  fid  the file (its manifest, at the source)
 * 14    14  fid  the piece's chunk, at the source
 * 28    14  fid  the local needle holding the piece's bytes
 * 42    4   u32  the piece's index in the file
 *
 * FILE body: every piece is pinned; the file is served
 * 0     14  fid  the file
 * 14    14  fid  the local needle holding its manifest (with the original name, type and date)
 * 28    4   u32  the original manifest needle's CRC32C: its ETag
 *
 * DROP body: the file's pin ends; its PIECE and FILE entries and their needles go
 * 0     14  fid  the file
 * </pre>
 *
 * <p>Rules the writer keeps, so that a crash anywhere leaves a usable index: a needle is durable
 * before the entry naming it; every PIECE of a file before its FILE, so a FILE never names a
 * missing piece; a DROP before the needles' deletion. A crash can leave a partial last entry,
 * which fails its kind or CRC check and is cut off on load, and needles no entry names (written,
 * then the crash before the entry), which {@link PinIndex} counts on load.
 */
final class PinIndexCodec {

  static final byte[] MAGIC = {'W', 'P', 'I', 'X'};
  static final int VERSION = 1;
  static final int HEADER_SIZE = MAGIC.length + Short.BYTES + Short.BYTES;

  static final byte KIND_PIECE = 1;
  static final byte KIND_FILE = 2;
  static final byte KIND_DROP = 3;

  static final int FID_SIZE = Fid.BYTES;
  static final int PIECE_BODY = 3 * FID_SIZE + Integer.BYTES;
  static final int FILE_BODY = 2 * FID_SIZE + Integer.BYTES;
  static final int DROP_BODY = FID_SIZE;
  private static final int CRC_SIZE = Integer.BYTES;

  /** A decoded entry. */
  sealed interface Entry {
    Fid file();
  }

  /** Piece {@code index} of {@code file}, chunk {@code chunk} at the source, is needle {@code local}. */
  record Piece(Fid file, Fid chunk, Fid local, int index) implements Entry {}

  /** {@code file}'s manifest is needle {@code local}; served with {@code checksum} as its ETag. */
  record File(Fid file, Fid local, int checksum) implements Entry {}

  /** {@code file}'s pin ends. */
  record Drop(Fid file) implements Entry {}

  /** An entry and the bytes it took. */
  record Decoded(Entry entry, int length) {}

  /** Bytes that do not decode as an entry: the torn tail of a crash, or damage. */
  static final class BadEntryException extends Exception {
    BadEntryException(long offset, String message) {
      super("pin index entry at offset " + offset + ": " + message);
    }
  }

  private PinIndexCodec() {
  }

  static ByteBuffer header() {
    return ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN)
        .put(MAGIC).putShort((short) VERSION).putShort((short) 0).flip();
  }

  /** Checks the header; a message naming what is wrong, or null. */
  static String headerProblem(ByteBuffer file) {
    if (file.remaining() < HEADER_SIZE) {
      return "the header is cut short";
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (file.get(i) != MAGIC[i]) {
        return "no WPIX magic";
      }
    }
    int version = Short.toUnsignedInt(file.duplicate().order(ByteOrder.LITTLE_ENDIAN).getShort(MAGIC.length));
    return version == VERSION ? null
        : "format version " + version + " is not read here; this build reads " + VERSION + ".." + VERSION;
  }

  static ByteBuffer encode(Entry entry) {
    int bodySize = switch (entry) {
      case Piece p -> PIECE_BODY;
      case File f -> FILE_BODY;
      case Drop d -> DROP_BODY;
    };
    ByteBuffer out = ByteBuffer.allocate(1 + bodySize + CRC_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    switch (entry) {
      case Piece p -> {
        out.put(KIND_PIECE);
        p.file().putTo(out);
        p.chunk().putTo(out);
        p.local().putTo(out);
        out.putInt(p.index());
      }
      case File f -> {
        out.put(KIND_FILE);
        f.file().putTo(out);
        f.local().putTo(out);
        out.putInt(f.checksum());
      }
      case Drop d -> {
        out.put(KIND_DROP);
        d.file().putTo(out);
      }
    }
    CRC32C crc = new CRC32C();
    crc.update(out.array(), 0, out.position());
    out.putInt((int) crc.getValue());
    return out.flip();
  }

  /**
   * Decodes the entry at {@code at} of {@code file}.
   *
   * @throws BadEntryException when the bytes there are not a whole entry that passes its checks
   */
  static Decoded decode(ByteBuffer file, int at) throws BadEntryException {
    ByteBuffer b = file.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    if (b.limit() - at < 1) {
      throw new BadEntryException(at, "no kind byte");
    }
    byte kind = b.get(at);
    int bodySize = switch (kind) {
      case KIND_PIECE -> PIECE_BODY;
      case KIND_FILE -> FILE_BODY;
      case KIND_DROP -> DROP_BODY;
      default -> throw new BadEntryException(at, "unknown kind " + Byte.toUnsignedInt(kind));
    };
    int total = 1 + bodySize + CRC_SIZE;
    if (b.limit() - at < total) {
      throw new BadEntryException(at, "cut short");
    }
    CRC32C crc = new CRC32C();
    crc.update(b.slice(at, 1 + bodySize));
    if ((int) crc.getValue() != b.getInt(at + 1 + bodySize)) {
      throw new BadEntryException(at, "fails its CRC");
    }
    int body = at + 1;
    try {
      Entry entry = switch (kind) {
        case KIND_PIECE -> new Piece(Fid.getFrom(b, body), Fid.getFrom(b, body + FID_SIZE),
            Fid.getFrom(b, body + 2 * FID_SIZE), b.getInt(body + 3 * FID_SIZE));
        case KIND_FILE -> new File(Fid.getFrom(b, body), Fid.getFrom(b, body + FID_SIZE), b.getInt(body + 2 * FID_SIZE));
        default -> new Drop(Fid.getFrom(b, body));
      };
      return new Decoded(entry, total);
    } catch (IllegalArgumentException e) {
      // a fid out of its ranges: written by no writer, so damage
      throw new BadEntryException(at, e.getMessage());
    }
  }

}
