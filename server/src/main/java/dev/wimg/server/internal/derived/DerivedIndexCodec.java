package dev.wimg.server.internal.derived;

import dev.wimg.protocol.Fid;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * Byte format of the derived index, {@code <data>/derived/derived.log}: an append-only log that
 * links derived pictures (needles of the derived store) to their originals. All integers are
 * little-endian, as in the volume formats.
 *
 * <p>Header, once at the start of the file:
 * <pre>
 * offset size type field
 * 0      4    u8[] magic: ASCII "WDIX"
 * 4      2    u16  format version (1)
 * 6      2    u16  reserved, 0
 * </pre>
 *
 * <p>Then entries, each:
 * <pre>
 * offset  size type field
 * 0       4    u32  length L of kind + body, bytes (1..MAX_ENTRY_LENGTH)
 * 4       1    u8   kind: 1 = ADD, 2 = REMOVE
 * 5       L-1  body (below)
 * 4+L     4    u32  CRC32C of bytes 0 .. 4+L (length, kind and body)
 * </pre>
 *
 * <p>A fid is 14 bytes: group u16, volume u32, key u32, cookie u32.
 * <pre>
 * ADD body
 * 0     14  fid  original
 * 14    14  fid  derived (a needle of the derived store)
 * 28    4   u32  original checksum (its needle CRC32C, part of the derived picture's ETag)
 * 32    4   u32  derived size, bytes
 * 36    2   u16  key text length K
 * 38    K   utf8 key text: canonical transform "|" variant (see TransformKey#text)
 * 38+K  1   u8   media type length M
 * 39+K  M   utf8 media type of the derived picture
 *
 * REMOVE body
 * 0     14  fid  derived
 * </pre>
 *
 * <p>Replaying the entries in order gives the live links: an ADD links, a REMOVE of the same
 * derived fid unlinks. A crash can leave a partial last entry; it fails its length or CRC check
 * and is cut off on load.
 *
 * <p>Order carries recency: replay links in ADD order, least recently used first. A clean close
 * rewrites the log as the ADDs of the live links in recency order (no new field, so no new
 * version: a version-1 log written before this rule simply restores its append order). After a
 * crash the order is that of the last rewrite, then of later ADDs.
 *
 * <p>Every live needle of the derived store must be linked by exactly one live ADD; needles that
 * no entry accounts for (a crash between a needle write and its ADD, a torn ADD, a crash between
 * a REMOVE and the needle's deletion) are removed on start by {@link DerivedStoreLoader}.
 */
final class DerivedIndexCodec {

  static final byte[] MAGIC = {'W', 'D', 'I', 'X'};
  static final int VERSION = 1;
  static final int HEADER_SIZE = MAGIC.length + Short.BYTES + Short.BYTES;

  static final byte KIND_ADD = 1;
  static final byte KIND_REMOVE = 2;

  static final int FID_SIZE = Fid.BYTES;
  private static final int LENGTH_SIZE = Integer.BYTES;
  private static final int KIND_SIZE = 1;
  private static final int CRC_SIZE = Integer.BYTES;
  /** Bytes of an entry around its body: length, kind, CRC. */
  static final int ENTRY_OVERHEAD = LENGTH_SIZE + KIND_SIZE + CRC_SIZE;

  private static final int ADD_ORIGINAL = 0;
  private static final int ADD_DERIVED = ADD_ORIGINAL + FID_SIZE;
  private static final int ADD_CHECKSUM = ADD_DERIVED + FID_SIZE;
  private static final int ADD_SIZE = ADD_CHECKSUM + Integer.BYTES;
  private static final int ADD_KEY_LENGTH = ADD_SIZE + Integer.BYTES;
  private static final int ADD_KEY = ADD_KEY_LENGTH + Short.BYTES;

  /** Largest derived size, bytes: the u32 size field. */
  static final long MAX_SIZE = 0xFFFF_FFFFL;
  /** Longest key text, bytes: the u16 length field. */
  static final int MAX_KEY_BYTES = 0xFFFF;
  /** Longest media type, bytes: the u8 length field. */
  static final int MAX_MIME_BYTES = 0xFF;
  /** Largest {@code L}: kind plus the largest ADD body. */
  static final int MAX_ENTRY_LENGTH = KIND_SIZE + ADD_KEY + MAX_KEY_BYTES + 1 + MAX_MIME_BYTES;

  /** A decoded entry. */
  sealed interface Entry {}

  /** Links {@code derived} to {@code original} under {@code keyText}. */
  record Add(Fid original, Fid derived, int originalChecksum, long size, String keyText, String mime)
      implements Entry {}

  /** Unlinks {@code derived}. */
  record Remove(Fid derived) implements Entry {}

  /** An entry and the bytes it took. */
  record Decoded(Entry entry, int length) {}

  private DerivedIndexCodec() {
  }

  static ByteBuffer header() {
    ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    b.put(MAGIC).putShort((short) VERSION).putShort((short) 0);
    return b.flip();
  }

  static void checkHeader(ByteBuffer file) throws CorruptDerivedIndexException {
    if (file.remaining() < HEADER_SIZE) {
      throw new CorruptDerivedIndexException(0, "derived index header is truncated");
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (file.get(i) != MAGIC[i]) {
        throw new CorruptDerivedIndexException(0, "derived index has no WDIX magic");
      }
    }
    int version = Short.toUnsignedInt(file.order(ByteOrder.LITTLE_ENDIAN).getShort(MAGIC.length));
    if (version != VERSION) {
      throw new CorruptDerivedIndexException(0, "derived index version " + version + " not readable, this build reads "
          + VERSION + ".." + VERSION);
    }
  }

  static ByteBuffer encode(Entry entry) {
    ByteBuffer body;
    byte kind;
    switch (entry) {
      case Add add -> {
        if (add.size() < 0 || add.size() > MAX_SIZE) {
          // a u32 on disk: a larger size would be read back as another
          throw new IllegalArgumentException("derived size must be 0.." + MAX_SIZE + " bytes, got " + add.size());
        }
        byte[] key = utf8(add.keyText(), "key text", MAX_KEY_BYTES);
        byte[] mime = utf8(add.mime(), "media type", MAX_MIME_BYTES);
        body = ByteBuffer.allocate(ADD_KEY + key.length + 1 + mime.length).order(ByteOrder.LITTLE_ENDIAN);
        add.original().putTo(body);
        add.derived().putTo(body);
        body.putInt(add.originalChecksum()).putInt((int) add.size());
        body.putShort((short) key.length).put(key).put((byte) mime.length).put(mime);
        kind = KIND_ADD;
      }
      case Remove remove -> {
        body = ByteBuffer.allocate(FID_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        remove.derived().putTo(body);
        kind = KIND_REMOVE;
      }
    }
    body.flip();
    int length = KIND_SIZE + body.remaining();
    ByteBuffer out = ByteBuffer.allocate(LENGTH_SIZE + length + CRC_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    out.putInt(length).put(kind).put(body);
    CRC32C crc = new CRC32C();
    crc.update(out.array(), 0, out.position());
    out.putInt((int) crc.getValue());
    return out.flip();
  }

  /**
   * Decodes the entry at {@code at}.
   *
   * @param offset {@code at}'s offset in the file, for the error message
   * @throws CorruptDerivedIndexException when the entry is incomplete or fails a check
   */
  static Decoded decode(ByteBuffer file, int at, long offset) throws CorruptDerivedIndexException {
    ByteBuffer b = file.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    if (b.limit() - at < LENGTH_SIZE) {
      throw new CorruptDerivedIndexException(offset, "derived index entry length is truncated");
    }
    int length = b.getInt(at);
    if (length < KIND_SIZE || length > MAX_ENTRY_LENGTH) {
      throw new CorruptDerivedIndexException(offset, "derived index entry length " + Integer.toUnsignedString(length)
          + " is outside 1.." + MAX_ENTRY_LENGTH);
    }
    int total = LENGTH_SIZE + length + CRC_SIZE;
    if (b.limit() - at < total) {
      throw new CorruptDerivedIndexException(offset, "derived index entry is truncated");
    }
    CRC32C crc = new CRC32C();
    crc.update(b.slice(at, LENGTH_SIZE + length));
    if ((int) crc.getValue() != b.getInt(at + LENGTH_SIZE + length)) {
      throw new CorruptDerivedIndexException(offset, "derived index entry fails its CRC");
    }
    ByteBuffer body = b.slice(at + LENGTH_SIZE + KIND_SIZE, length - KIND_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    byte kind = b.get(at + LENGTH_SIZE);
    try {
      Entry entry = switch (kind) {
        case KIND_ADD -> {
          Fid original = Fid.getFrom(body, ADD_ORIGINAL);
          Fid derived = Fid.getFrom(body, ADD_DERIVED);
          int checksum = body.getInt(ADD_CHECKSUM);
          long size = Integer.toUnsignedLong(body.getInt(ADD_SIZE));
          int keyLength = Short.toUnsignedInt(body.getShort(ADD_KEY_LENGTH));
          String key = utf8(body, ADD_KEY, keyLength);
          int mimeLength = Byte.toUnsignedInt(body.get(ADD_KEY + keyLength));
          String mime = utf8(body, ADD_KEY + keyLength + 1, mimeLength);
          if (ADD_KEY + keyLength + 1 + mimeLength != body.limit()) {
            throw new CorruptDerivedIndexException(offset, "derived index ADD entry has trailing bytes");
          }
          yield new Add(original, derived, checksum, size, key, mime);
        }
        case KIND_REMOVE -> {
          if (body.limit() != FID_SIZE) {
            throw new CorruptDerivedIndexException(offset, "derived index REMOVE entry is not " + FID_SIZE + " bytes");
          }
          yield new Remove(Fid.getFrom(body, 0));
        }
        default -> throw new CorruptDerivedIndexException(offset, "derived index entry kind " + kind + " is unknown");
      };
      return new Decoded(entry, total);
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      throw new CorruptDerivedIndexException(offset, "derived index entry is malformed: " + e.getMessage());
    }
  }

  /**
   * {@code text} in UTF-8, refused if longer than {@code max} bytes or if UTF-8 cannot carry it (an
   * unpaired surrogate would be written as '?' and read back as another text).
   */
  private static byte[] utf8(String text, String what, int max) {
    ByteBuffer bytes;
    try {
      bytes = StandardCharsets.UTF_8.newEncoder().encode(CharBuffer.wrap(text));
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException(what + " is not valid Unicode, the derived index cannot hold it", e);
    }
    if (bytes.remaining() > max) {
      throw new IllegalArgumentException(what + " must be at most " + max + " UTF-8 bytes for the derived index, got "
          + bytes.remaining());
    }
    byte[] out = new byte[bytes.remaining()];
    bytes.get(out);
    return out;
  }


  private static String utf8(ByteBuffer b, int at, int length) {
    byte[] bytes = new byte[length];
    b.get(at, bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
