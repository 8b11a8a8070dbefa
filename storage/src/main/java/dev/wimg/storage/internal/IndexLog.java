package dev.wimg.storage.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32C;

/**
 * The index log ({@code .idx}) of a volume: a header, then one fixed-size entry per record appended
 * to the {@code .dat}, in the same order. It lets a restart rebuild the in-memory index without
 * reading the needles. Little-endian.
 *
 * <p>Header:
 * <pre>
 * offset  size  type  field
 * 0       4     u32   magic, the ASCII bytes "WIDX" ({@link #MAGIC})
 * 4       2     u16   version ({@link #VERSION_1})
 * 6       2     u16   reserved, 0
 * 8       4     u32   revision: must equal the .dat superblock's, else the log is stale
 * 12      4     u32   CRC32C of bytes 0..11
 * </pre>
 *
 * <p>Entry ({@value #ENTRY_SIZE} bytes, at {@value #HEADER_SIZE} + 16 * n):
 * <pre>
 * offset  size  type  field
 * 0       4     u32   key
 * 4       4     u32   offset of the record in the .dat, in 8-byte units
 * 8       4     u32   bit 31: tombstone. Bits 0..30: record length in 8-byte units of the needle;
 *                     for a tombstone, of the needle it deletes (a tombstone record itself is
 *                     always {@value NeedleCodec#TOMBSTONE_RECORD_LENGTH} bytes)
 * 12      4     u32   CRC32C of bytes 0..11
 * </pre>
 *
 * <p>Implementation notes: the log is written after the {@code .dat} append and not forced per
 * batch; the {@code .dat} is the source of truth and {@link VolumeLoader} verifies the log's tail
 * against it. Reading is a tight loop over a bulk-read buffer with no allocation per entry, so
 * that ten million entries load in well under a second.
 */
public final class IndexLog {

  /** "WIDX" as a little-endian int. */
  public static final int MAGIC = 0x58444957;
  /** Version 1: the layout above (first version). */
  public static final int VERSION_1 = 1;
  public static final int CURRENT_VERSION = VERSION_1;
  public static final int MIN_READ_VERSION = VERSION_1;

  public static final int OFF_MAGIC = 0;
  public static final int OFF_VERSION = OFF_MAGIC + 4;
  public static final int OFF_RESERVED = OFF_VERSION + 2;
  public static final int OFF_REVISION = OFF_RESERVED + 2;
  public static final int OFF_HEADER_CRC = OFF_REVISION + 4;
  /** Size of the header, bytes. */
  public static final int HEADER_SIZE = OFF_HEADER_CRC + 4;

  public static final int ENTRY_OFF_KEY = 0;
  public static final int ENTRY_OFF_OFFSET = ENTRY_OFF_KEY + 4;
  public static final int ENTRY_OFF_LENGTH = ENTRY_OFF_OFFSET + 4;
  public static final int ENTRY_OFF_CRC = ENTRY_OFF_LENGTH + 4;
  /** Size of an entry, bytes. */
  public static final int ENTRY_SIZE = ENTRY_OFF_CRC + 4;
  /** Bit 31 of the length word: the entry is a tombstone. */
  public static final int TOMBSTONE_BIT = 1 << 31;

  /** Bytes read per bulk read when loading; a multiple of {@link #ENTRY_SIZE}. */
  private static final int READ_CHUNK = 1 << 20;

  private IndexLog() {}

  /** Receives entries during {@link #read}; primitive arguments so the loop allocates nothing. */
  @FunctionalInterface
  public interface Visitor {
    /**
     * @param lengthUnits needle length in 8-byte units (for a tombstone, of the deleted needle)
     * @return false to stop reading here: this entry and the rest of the log are dropped
     */
    boolean entry(long key, long offsetUnits, long lengthUnits, boolean tombstone);
  }

  /**
   * The result of {@link #read}.
   *
   * @param entries  entries accepted
   * @param validEnd file offset after the last accepted entry (the log is cut there)
   * @param stopReason null if the whole file was read, else why reading stopped early
   */
  public record ReadResult(long entries, long validEnd, String stopReason) {}

  /** Encodes the header for a log that belongs to a {@code .dat} of this revision. */
  public static ByteBuffer encodeHeader(int revision) {
    ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(OFF_MAGIC, MAGIC).putShort(OFF_VERSION, (short) CURRENT_VERSION)
        .putShort(OFF_RESERVED, (short) 0).putInt(OFF_REVISION, revision);
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, OFF_HEADER_CRC);
    b.putInt(OFF_HEADER_CRC, (int) crc.getValue());
    return b;
  }

  /** Appends one entry at {@code dst}'s position; {@code crc} is scratch state. */
  public static void putEntry(ByteBuffer dst, CRC32C crc, long key, long offsetUnits, long lengthUnits,
                              boolean tombstone) {
    if ((key >>> 32) != 0 || (offsetUnits >>> 32) != 0 || (lengthUnits >>> 31) != 0) {
      // a caller's bug: an entry that wrapped around would name another record
      throw new IllegalArgumentException("index entry out of range: key " + key + ", offset units "
          + offsetUnits + " (u32), length units " + lengthUnits + " (31 bits)");
    }
    int start = dst.position();
    dst.putInt((int) key).putInt((int) offsetUnits)
        .putInt((int) lengthUnits | (tombstone ? TOMBSTONE_BIT : 0));
    crc.reset();
    crc.update(dst.slice(start, ENTRY_OFF_CRC));
    dst.putInt((int) crc.getValue());
  }

  /**
   * Reads the log: checks the header, then hands each entry to {@code visitor} until the end of the
   * file, an entry failing its checksum (a torn or damaged tail), a partial last entry, or the
   * visitor saying stop.
   *
   * @throws VolumeFormatException if the header is missing, damaged, of an unknown version or of
   *     another revision than {@code expectedRevision}; the caller then rebuilds the log
   */
  public static ReadResult read(FileChannel ch, String file, int expectedRevision, Visitor visitor)
      throws IOException {
    long size = ch.size();
    ByteBuffer buf = ByteBuffer.allocate(READ_CHUNK).order(ByteOrder.LITTLE_ENDIAN);
    byte[] a = buf.array();
    if (size < HEADER_SIZE) {
      throw new VolumeFormatException(file + ": index header needs " + HEADER_SIZE
          + " bytes, file has " + size);
    }
    readFully(ch, buf.limit(HEADER_SIZE), 0);
    CRC32C crc = new CRC32C();
    crc.update(a, 0, OFF_HEADER_CRC);
    int magic = buf.getInt(OFF_MAGIC);
    if (magic != MAGIC) {
      throw new VolumeFormatException(file + ": bad index magic 0x" + Integer.toHexString(magic)
          + ", expected 0x" + Integer.toHexString(MAGIC));
    }
    if (buf.getInt(OFF_HEADER_CRC) != (int) crc.getValue()) {
      throw new VolumeFormatException(file + ": index header checksum mismatch");
    }
    int version = buf.getShort(OFF_VERSION) & 0xFFFF;
    if (version < MIN_READ_VERSION || version > CURRENT_VERSION) {
      throw new VolumeFormatException(file + ": index version " + version
          + " not readable, this build reads " + MIN_READ_VERSION + ".." + CURRENT_VERSION);
    }
    int revision = buf.getInt(OFF_REVISION);
    if (revision != expectedRevision) {
      throw new VolumeFormatException(file + ": index revision " + revision
          + " does not match volume revision " + expectedRevision);
    }
    long pos = HEADER_SIZE;
    long entries = 0;
    while (pos < size) {
      int want = (int) Math.min(READ_CHUNK, size - pos);
      buf.clear().limit(want);
      readFully(ch, buf, pos);
      int whole = want - want % ENTRY_SIZE;
      for (int i = 0; i < whole; i += ENTRY_SIZE) {
        crc.reset();
        crc.update(a, i, ENTRY_OFF_CRC);
        if (buf.getInt(i + ENTRY_OFF_CRC) != (int) crc.getValue()) {
          return new ReadResult(entries, pos + i, "entry " + entries + " at offset " + (pos + i)
              + " fails its checksum");
        }
        int word = buf.getInt(i + ENTRY_OFF_LENGTH);
        if (!visitor.entry(Integer.toUnsignedLong(buf.getInt(i + ENTRY_OFF_KEY)),
            Integer.toUnsignedLong(buf.getInt(i + ENTRY_OFF_OFFSET)), word & ~TOMBSTONE_BIT,
            (word & TOMBSTONE_BIT) != 0)) {
          return new ReadResult(entries, pos + i, "entry " + entries + " at offset " + (pos + i)
              + " does not match the volume");
        }
        entries++;
      }
      if (whole < want) {
        return new ReadResult(entries, pos + whole, "partial entry of " + (want - whole)
            + " bytes at offset " + (pos + whole));
      }
      pos += whole;
    }
    return new ReadResult(entries, pos, null);
  }

  static void readFully(FileChannel ch, ByteBuffer dst, long position) throws IOException {
    long p = position;
    while (dst.hasRemaining()) {
      int n = ch.read(dst, p);
      if (n < 0) {
        throw new java.io.EOFException("unexpected end of file at " + p);
      }
      p += n;
    }
  }

  static void writeFully(FileChannel ch, ByteBuffer src, long position) throws IOException {
    long p = position;
    while (src.hasRemaining()) {
      p += ch.write(src, p);
    }
  }
}
