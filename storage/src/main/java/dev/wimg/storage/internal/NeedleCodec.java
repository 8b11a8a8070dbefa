package dev.wimg.storage.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Encodes and decodes needle records, the unit of storage in a volume's {@code .dat} file.
 *
 * <p>A record starts at an offset that is a multiple of {@value #ALIGNMENT} bytes. All integers
 * are little-endian; "u" types are unsigned.
 *
 * <pre>
 * offset          size  type   field
 * 0               4     u32    magic {@value #MAGIC_HEX} ({@link #MAGIC})
 * 4               1     u8     version, {@link #VERSION_1}
 * 5               1     u8     flags: bit 0 tombstone, bit 1 has name, bit 2 has mime, bit 3
 *                              manifest (the data lists a large file's chunks); others 0
 * 6               2     u16    metaLength M, 0..{@value #MAX_META_LENGTH}
 * 8               4     u32    key, dense within the volume
 * 12              4     u32    cookie, random per fid
 * 16              4     u32    dataLength D, 0..2^31-1
 * 20              8     i64    lastModified, epoch ms (deletion time for a tombstone)
 * 28              4     u32    header CRC32C over bytes 0..27
 * 32              M     meta   if M &gt; 0: u8 nameLength N, N bytes UTF-8 name,
 *                              u8 mimeLength T, T bytes UTF-8 mime; M = 2 + N + T
 * 32+M            D     bytes  data
 * 32+M+D          4     u32    record CRC32C over bytes [0, 32+M+D)
 * 36+M+D          0..7  zeros  padding to a multiple of 8
 * </pre>
 *
 * <p>A tombstone is a record with the tombstone flag, the key and cookie of the needle it deletes,
 * M = 0 and D = 0: always {@value #TOMBSTONE_RECORD_LENGTH} bytes. A null name or mime is told apart
 * from an empty one by the "has" flags.
 *
 * <p>Implementation notes: the header has its own checksum so that a scan can trust the lengths of
 * a header before reading the body: recovery and verify can then step over a needle whose data is
 * damaged instead of losing everything after it. Decoding never trusts a length before bounding it
 * by the bytes available, and fails with {@link IncompleteNeedleException} when the record runs past
 * them; every other failed check is a {@link dev.wimg.storage.CorruptNeedleException} naming the
 * values. Padding is checked to be zero so that every bit of a record is covered by some check.
 */
public final class NeedleCodec {

  /** Magic of a needle record: the ASCII bytes "WNDL" read as a little-endian int. */
  public static final int MAGIC = 0x4C444E57;
  static final String MAGIC_HEX = "0x4C444E57";
  /** Record format 1: the layout above (first version). */
  public static final int VERSION_1 = 1;
  /** The version this code writes. */
  public static final int CURRENT_VERSION = VERSION_1;
  /** Oldest version this code reads. */
  public static final int MIN_READ_VERSION = VERSION_1;

  /** Records start at multiples of this many bytes; offsets in the index count these units. */
  public static final int ALIGNMENT = 8;
  /** log2 of {@link #ALIGNMENT}. */
  public static final int ALIGNMENT_SHIFT = 3;

  public static final int FLAG_TOMBSTONE = 1;
  public static final int FLAG_HAS_NAME = 1 << 1;
  public static final int FLAG_HAS_MIME = 1 << 2;
  /** The data is a large file's manifest (its chunks' fids), not the file's bytes. */
  public static final int FLAG_MANIFEST = 1 << 3;
  static final int KNOWN_FLAGS = FLAG_TOMBSTONE | FLAG_HAS_NAME | FLAG_HAS_MIME | FLAG_MANIFEST;

  public static final int OFF_MAGIC = 0;
  public static final int OFF_VERSION = OFF_MAGIC + 4;
  public static final int OFF_FLAGS = OFF_VERSION + 1;
  public static final int OFF_META_LENGTH = OFF_FLAGS + 1;
  public static final int OFF_KEY = OFF_META_LENGTH + 2;
  public static final int OFF_COOKIE = OFF_KEY + 4;
  public static final int OFF_DATA_LENGTH = OFF_COOKIE + 4;
  public static final int OFF_LAST_MODIFIED = OFF_DATA_LENGTH + 4;
  public static final int OFF_HEADER_CRC = OFF_LAST_MODIFIED + 8;
  /** Size of the fixed header, bytes. */
  public static final int HEADER_SIZE = OFF_HEADER_CRC + 4;
  /** Size of the record checksum after the data, bytes. */
  public static final int CRC_SIZE = 4;
  /** Largest meta block: two length bytes and up to 255 bytes each of name and mime. */
  public static final int MAX_META_LENGTH = 2 + 255 + 255;
  /** Size of a tombstone record, bytes. */
  public static final int TOMBSTONE_RECORD_LENGTH = (HEADER_SIZE + CRC_SIZE + ALIGNMENT - 1) & -ALIGNMENT;
  /**
   * Largest offset a record may start at, bytes: the index and the index log hold offsets as u32
   * counts of {@value #ALIGNMENT}-byte units, so a volume addresses 32 GiB. An append that would
   * start past it is refused (never wrapped around).
   */
  public static final long MAX_RECORD_OFFSET = 0xFFFF_FFFFL << ALIGNMENT_SHIFT;

  static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  /** Largest slice handed to CRC32C at once (ByteBuffer views are int-indexed), bytes. */
  private static final long CRC_CHUNK = 1L << 30;

  private NeedleCodec() {}

  /** On-disk size of a record with this much meta and data, padding included. */
  public static long recordLength(int metaLength, long dataLength) {
    long raw = HEADER_SIZE + (long) metaLength + dataLength + CRC_SIZE;
    return (raw + ALIGNMENT - 1) & -ALIGNMENT;
  }

  /** Size of the meta block for these UTF-8 names (either may be null). */
  public static int metaLength(byte[] name, byte[] mime) {
    if (name == null && mime == null) {
      return 0;
    }
    return 2 + (name == null ? 0 : name.length) + (mime == null ? 0 : mime.length);
  }

  /** Flags for a needle with these names. */
  public static int flags(byte[] name, byte[] mime) {
    return (name == null ? 0 : FLAG_HAS_NAME) | (mime == null ? 0 : FLAG_HAS_MIME);
  }

  /**
   * Writes the 32-byte header at {@code dst}'s position (advancing it), header checksum included.
   * {@code dst} must be little-endian.
   */
  public static void putHeader(ByteBuffer dst, int flags, int metaLength, long key, int cookie,
                               int dataLength, long lastModified) {
    int start = dst.position();
    dst.putInt(MAGIC).put((byte) CURRENT_VERSION).put((byte) flags).putShort((short) metaLength)
        .putInt((int) key).putInt(cookie).putInt(dataLength).putLong(lastModified);
    CRC32C crc = new CRC32C();
    crc.update(dst.slice(start, OFF_HEADER_CRC));
    dst.putInt((int) crc.getValue());
  }

  /** Writes the meta block (nothing if both are null) at {@code dst}'s position. */
  public static void putMeta(ByteBuffer dst, byte[] name, byte[] mime) {
    if (name == null && mime == null) {
      return;
    }
    dst.put((byte) (name == null ? 0 : name.length));
    if (name != null) {
      dst.put(name);
    }
    dst.put((byte) (mime == null ? 0 : mime.length));
    if (mime != null) {
      dst.put(mime);
    }
  }

  /** Writes the record checksum and the zero padding after {@code checkedLength} bytes of record. */
  public static void putTrailer(ByteBuffer dst, int checksum, long checkedLength) {
    dst.putInt(checksum);
    int pad = (int) (recordLength(0, checkedLength - HEADER_SIZE) - checkedLength - CRC_SIZE);
    for (int i = 0; i < pad; i++) {
      dst.put((byte) 0);
    }
  }

  /**
   * Encodes a whole record into a new heap buffer (tests, tombstones, small records).
   *
   * @return the record, position 0, limit = record length
   */
  public static ByteBuffer encode(int flags, String name, String mime, long key, int cookie,
                                  long lastModified, List<ByteBuffer> data) {
    byte[] n = name == null ? null : name.getBytes(StandardCharsets.UTF_8);
    byte[] m = mime == null ? null : mime.getBytes(StandardCharsets.UTF_8);
    long dataLength = 0;
    for (ByteBuffer b : data) {
      dataLength += b.remaining();
    }
    int meta = metaLength(n, m);
    ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(recordLength(meta, dataLength)))
        .order(ByteOrder.LITTLE_ENDIAN);
    putHeader(out, flags | flags(n, m), meta, key, cookie, (int) dataLength, lastModified);
    putMeta(out, n, m);
    for (ByteBuffer b : data) {
      out.put(b.duplicate());
    }
    CRC32C crc = new CRC32C();
    crc.update(out.duplicate().flip());
    putTrailer(out, (int) crc.getValue(), out.position());
    return out.flip();
  }

  /** Encodes a tombstone for {@code key}/{@code cookie}. */
  public static ByteBuffer encodeTombstone(long key, int cookie, long deletedAt) {
    return encode(FLAG_TOMBSTONE, null, null, key, cookie, deletedAt, List.of());
  }

  /**
   * Decodes and checks the header at {@code offset}, without reading meta or data.
   *
   * @param end     first byte after the bytes that may belong to this record (file or valid end)
   * @param volume  volume id named in errors
   * @throws IncompleteNeedleException if the header or the record it announces runs past {@code end}
   * @throws dev.wimg.storage.CorruptNeedleException on bad magic, header checksum, version, flags or
   *     lengths
   * @throws InternalError if a page of a mapped {@code seg} cannot be read (see {@link MappedPages})
   */
  public static NeedleHeader decodeHeader(MemorySegment seg, long offset, long end, int volume)
      throws dev.wimg.storage.CorruptNeedleException {
    return decodeHeader(seg, offset, offset, Math.min(end, seg.byteSize()) - offset, volume);
  }

  /**
   * As {@link #decodeHeader(MemorySegment, long, long, int)}, for a segment that holds a copy of the
   * volume's bytes from file offset {@code base} (a read buffer instead of a mapping): {@code offset}
   * and {@code end} are file offsets, and errors name file offsets. The segment must hold the
   * header's {@value #HEADER_SIZE} bytes when {@code end - offset} leaves room for them.
   */
  public static NeedleHeader decodeHeaderCopy(MemorySegment seg, long base, long offset, long end,
      int volume) throws dev.wimg.storage.CorruptNeedleException {
    return decodeHeader(seg, offset - base, offset, end - offset, volume);
  }

  /**
   * The header at index {@code at} of {@code seg}, which is file offset {@code offset}, with
   * {@code available} bytes of the volume from there.
   */
  private static NeedleHeader decodeHeader(MemorySegment seg, long at, long offset, long available,
      int volume) throws dev.wimg.storage.CorruptNeedleException {
    if (offset < 0 || (offset & (ALIGNMENT - 1)) != 0) {
      throw new dev.wimg.storage.CorruptNeedleException(volume, offset, "offset is not 8-byte aligned");
    }
    if (available < HEADER_SIZE) {
      throw new IncompleteNeedleException(volume, offset,
          "header needs " + HEADER_SIZE + " bytes, " + Math.max(0, available) + " available");
    }
    MappedPages.touch(seg, at, HEADER_SIZE);
    int magic = seg.get(INT, at + OFF_MAGIC);
    if (magic != MAGIC) {
      throw new dev.wimg.storage.CorruptNeedleException(volume, offset,
          "bad magic 0x" + Integer.toHexString(magic) + ", expected " + MAGIC_HEX);
    }
    int storedHeaderCrc = seg.get(INT, at + OFF_HEADER_CRC);
    int headerCrc = crcOfTouched(seg, at, OFF_HEADER_CRC);
    if (storedHeaderCrc != headerCrc) {
      throw new dev.wimg.storage.CorruptNeedleException(volume, offset,
          "header checksum 0x" + Integer.toHexString(storedHeaderCrc) + " != computed 0x"
              + Integer.toHexString(headerCrc));
    }
    int version = seg.get(ValueLayout.JAVA_BYTE, at + OFF_VERSION) & 0xFF;
    if (version < MIN_READ_VERSION || version > CURRENT_VERSION) {
      throw new dev.wimg.storage.CorruptNeedleException(volume, offset, "needle version " + version
          + " not readable, this build reads " + MIN_READ_VERSION + ".." + CURRENT_VERSION);
    }
    int flags = seg.get(ValueLayout.JAVA_BYTE, at + OFF_FLAGS) & 0xFF;
    int metaLength = seg.get(SHORT, at + OFF_META_LENGTH) & 0xFFFF;
    long key = Integer.toUnsignedLong(seg.get(INT, at + OFF_KEY));
    int cookie = seg.get(INT, at + OFF_COOKIE);
    int dataLength = seg.get(INT, at + OFF_DATA_LENGTH);
    long lastModified = seg.get(LONG, at + OFF_LAST_MODIFIED);
    if ((flags & ~KNOWN_FLAGS) != 0) {
      throw new dev.wimg.storage.CorruptNeedleException(volume, offset,
          "unknown flags 0x" + Integer.toHexString(flags));
    }
    if (metaLength > MAX_META_LENGTH || (metaLength == 1)
        || (metaLength == 0) != ((flags & (FLAG_HAS_NAME | FLAG_HAS_MIME)) == 0)) {
      throw new dev.wimg.storage.CorruptNeedleException(volume, offset,
          "meta length " + metaLength + " does not fit flags 0x" + Integer.toHexString(flags));
    }
    if (dataLength < 0) {
      throw new dev.wimg.storage.CorruptNeedleException(volume, offset,
          "data length " + Integer.toUnsignedString(dataLength) + " exceeds " + Integer.MAX_VALUE);
    }
    if ((flags & FLAG_TOMBSTONE) != 0 && (metaLength != 0 || dataLength != 0 || (flags & FLAG_MANIFEST) != 0)) {
      throw new dev.wimg.storage.CorruptNeedleException(volume, offset, "tombstone with meta length "
          + metaLength + ", data length " + dataLength + " and flags 0x" + Integer.toHexString(flags));
    }
    NeedleHeader header = new NeedleHeader(flags, metaLength, key, cookie, dataLength, lastModified);
    if (header.recordLength() > available) {
      throw new IncompleteNeedleException(volume, offset,
          "record needs " + header.recordLength() + " bytes, " + available + " available");
    }
    return header;
  }

  /**
   * Decodes and verifies the whole record at {@code offset}: header, record checksum, meta block and
   * padding. The returned data is a read-only view of {@code seg}, not a copy.
   */
  public static Needle decode(MemorySegment seg, long offset, long end, int volume)
      throws dev.wimg.storage.CorruptNeedleException {
    NeedleHeader h = decodeHeader(seg, offset, end, volume);
    return decodeBody(seg, offset, h, volume);
  }

  /**
   * Verifies the rest of a record whose header was checked by {@link #decodeHeader}.
   *
   * @throws InternalError if a page of a mapped {@code seg} cannot be read (see {@link MappedPages})
   */
  public static Needle decodeBody(MemorySegment seg, long offset, NeedleHeader h, int volume)
      throws dev.wimg.storage.CorruptNeedleException {
    return decodeBody(seg, null, offset, h, volume);
  }

  /**
   * As {@link #decodeBody(MemorySegment, long, NeedleHeader, int)}, with {@code view} a read-only
   * buffer over {@code seg} from offset 0 (or null). When the record lies within it, the checksum
   * and the returned payload are slices of {@code view} instead of views made from new segment
   * slices.
   *
   * <p>Implementation note: the payload is returned to the caller, so its buffer and every object
   * it references escape; a slice of a long-lived buffer is one object instead of three (segment
   * slice, buffer over it, read-only buffer). JMH ({@code NeedleReadBenchmark.read -prof gc},
   * 1 and 20 KiB): gc.alloc.rate.norm of {@code Store.read} from 528 to 360 bytes per read.
   */
  public static Needle decodeBody(MemorySegment seg, ByteBuffer view, long offset, NeedleHeader h,
      int volume) throws dev.wimg.storage.CorruptNeedleException {
    return decodeBody(seg, view, offset, offset, h, volume);
  }

  /**
   * As {@link #decodeBody(MemorySegment, long, NeedleHeader, int)}, for a segment that holds a copy
   * of the volume's bytes from file offset {@code base}, the whole record included (see {@link
   * #decodeHeaderCopy}).
   */
  public static Needle decodeBodyCopy(MemorySegment seg, long base, long offset, NeedleHeader h,
      int volume) throws dev.wimg.storage.CorruptNeedleException {
    return decodeBody(seg, null, offset - base, offset, h, volume);
  }

  /** The body of the record at index {@code at} of {@code seg}, which is file offset {@code offset}. */
  private static Needle decodeBody(MemorySegment seg, ByteBuffer view, long at, long offset,
      NeedleHeader h, int volume) throws dev.wimg.storage.CorruptNeedleException {
    long checked = h.checkedLength();
    MappedPages.touch(seg, at, h.recordLength());
    int stored = seg.get(INT, at + checked);
    boolean inView = view != null && view.isReadOnly() && at + checked <= view.capacity();
    int computed;
    if (inView) {
      CRC32C crc = new CRC32C();
      crc.update(view.slice((int) at, (int) checked));
      computed = (int) crc.getValue();
    } else {
      computed = crcOfTouched(seg, at, checked);
    }
    if (stored != computed) {
      throw new dev.wimg.storage.CorruptNeedleException(volume, offset, "record checksum 0x"
          + Integer.toHexString(stored) + " != computed 0x" + Integer.toHexString(computed)
          + " (key " + h.key() + ", " + h.dataLength() + " data bytes)");
    }
    for (long p = checked + CRC_SIZE; p < h.recordLength(); p++) {
      if (seg.get(ValueLayout.JAVA_BYTE, at + p) != 0) {
        throw new dev.wimg.storage.CorruptNeedleException(volume, offset,
            "non-zero padding at offset " + (offset + p));
      }
    }
    String name = null;
    String mime = null;
    if (h.metaLength() > 0) {
      long m = at + HEADER_SIZE;
      int nameLength = seg.get(ValueLayout.JAVA_BYTE, m) & 0xFF;
      int mimeAt = 1 + nameLength;
      int mimeLength = mimeAt < h.metaLength() ? seg.get(ValueLayout.JAVA_BYTE, m + mimeAt) & 0xFF : -1;
      if (2 + nameLength + mimeLength != h.metaLength()
          || (nameLength > 0 && (h.flags() & FLAG_HAS_NAME) == 0)
          || (mimeLength > 0 && (h.flags() & FLAG_HAS_MIME) == 0)) {
        throw new dev.wimg.storage.CorruptNeedleException(volume, offset, "meta block of "
            + h.metaLength() + " bytes has name length " + nameLength + ", mime length " + mimeLength);
      }
      if ((h.flags() & FLAG_HAS_NAME) != 0) {
        name = utf8(seg, m + 1, nameLength);
      }
      if ((h.flags() & FLAG_HAS_MIME) != 0) {
        mime = utf8(seg, m + mimeAt + 1, mimeLength);
      }
    }
    ByteBuffer data = inView
        ? view.slice((int) (at + h.dataOffset()), h.dataLength())
        : seg.asSlice(at + h.dataOffset(), h.dataLength()).asByteBuffer().asReadOnlyBuffer();
    return new Needle(h, name, mime, data, stored);
  }

  private static String utf8(MemorySegment seg, long at, int length) {
    byte[] bytes = new byte[length];
    MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, at, bytes, 0, length);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /**
   * CRC32C of {@code length} bytes of {@code seg} from {@code offset}.
   *
   * @throws InternalError if a page of a mapped {@code seg} cannot be read (see {@link MappedPages})
   */
  public static int crc(MemorySegment seg, long offset, long length) {
    MappedPages.touch(seg, offset, length);
    return crcOfTouched(seg, offset, length);
  }

  /** As {@link #crc}, for a range that {@link MappedPages#touch} has just read. */
  private static int crcOfTouched(MemorySegment seg, long offset, long length) {
    CRC32C crc = new CRC32C();
    for (long done = 0; done < length; ) {
      long n = Math.min(CRC_CHUNK, length - done);
      crc.update(seg.asSlice(offset + done, n).asByteBuffer());
      done += n;
    }
    return (int) crc.getValue();
  }
}
