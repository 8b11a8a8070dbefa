package dev.wimg.storage.internal;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The first {@value #SIZE} bytes of a volume's {@code .dat} file. Little-endian.
 *
 * <pre>
 * offset  size  type  field
 * 0       8     u64   magic, the ASCII bytes "WIMG-VOL" ({@link #MAGIC})
 * 8       4     u32   format version ({@link #FORMAT_VERSION_1})
 * 12      4     u32   group
 * 16      4     u32   volume id
 * 20      4     u32   revision: 0 when created, +1 by every vacuum (pairs the .idx with its .dat)
 * 24      8     i64   created, epoch ms
 * 32      28    zeros reserved
 * 60      4     u32   CRC32C of bytes 0..59
 * </pre>
 *
 * <p>Needles follow at offset {@value #SIZE}, so offset 0 never names a needle and the index uses
 * 0 for "absent".
 *
 * @param group    storage group written at creation
 * @param volume   volume id, equal to the one in the file name
 * @param revision vacuum generation of this file
 * @param created  epoch ms of creation of the volume
 */
public record Superblock(int group, int volume, int revision, long created) {

  /** "WIMG-VOL" as a little-endian long. */
  public static final long MAGIC = 0x4C4F562D474D4957L;
  /** Format 1: superblock above, needle records of {@link NeedleCodec#VERSION_1} (first version). */
  public static final int FORMAT_VERSION_1 = 1;
  public static final int CURRENT_FORMAT_VERSION = FORMAT_VERSION_1;
  public static final int MIN_READ_FORMAT_VERSION = FORMAT_VERSION_1;

  public static final int OFF_MAGIC = 0;
  public static final int OFF_VERSION = OFF_MAGIC + 8;
  public static final int OFF_GROUP = OFF_VERSION + 4;
  public static final int OFF_VOLUME = OFF_GROUP + 4;
  public static final int OFF_REVISION = OFF_VOLUME + 4;
  public static final int OFF_CREATED = OFF_REVISION + 4;
  public static final int OFF_RESERVED = OFF_CREATED + 8;
  public static final int OFF_CRC = 60;
  /** Size of the superblock, bytes; a multiple of {@link NeedleCodec#ALIGNMENT}. */
  public static final int SIZE = OFF_CRC + 4;

  /** Encodes this superblock into a new buffer of {@value #SIZE} bytes, position 0. */
  public ByteBuffer encode() {
    ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(OFF_MAGIC, MAGIC).putInt(OFF_VERSION, CURRENT_FORMAT_VERSION).putInt(OFF_GROUP, group)
        .putInt(OFF_VOLUME, volume).putInt(OFF_REVISION, revision).putLong(OFF_CREATED, created);
    CRC32C crc = new CRC32C();
    crc.update(b.slice(0, OFF_CRC));
    b.putInt(OFF_CRC, (int) crc.getValue());
    return b;
  }

  /**
   * Decodes and checks the superblock at the start of {@code seg}.
   *
   * @param file named in errors
   * @throws VolumeFormatException if the bytes are not a superblock this build can read
   */
  public static Superblock decode(MemorySegment seg, String file) throws VolumeFormatException {
    if (seg.byteSize() < SIZE) {
      throw new VolumeFormatException(file + ": superblock needs " + SIZE + " bytes, file has "
          + seg.byteSize());
    }
    long magic = seg.get(NeedleCodec.LONG, OFF_MAGIC);
    if (magic != MAGIC) {
      throw new VolumeFormatException(file + ": bad superblock magic 0x" + Long.toHexString(magic)
          + ", expected 0x" + Long.toHexString(MAGIC));
    }
    int stored = seg.get(NeedleCodec.INT, OFF_CRC);
    int computed = NeedleCodec.crc(seg, 0, OFF_CRC);
    if (stored != computed) {
      throw new VolumeFormatException(file + ": superblock checksum 0x" + Integer.toHexString(stored)
          + " != computed 0x" + Integer.toHexString(computed));
    }
    int version = seg.get(NeedleCodec.INT, OFF_VERSION);
    if (version < MIN_READ_FORMAT_VERSION || version > CURRENT_FORMAT_VERSION) {
      throw new VolumeFormatException(file + ": volume format version " + version
          + " not readable, this build reads " + MIN_READ_FORMAT_VERSION + ".."
          + CURRENT_FORMAT_VERSION);
    }
    return new Superblock(seg.get(NeedleCodec.INT, OFF_GROUP), seg.get(NeedleCodec.INT, OFF_VOLUME),
        seg.get(NeedleCodec.INT, OFF_REVISION), seg.get(NeedleCodec.LONG, OFF_CREATED));
  }
}
