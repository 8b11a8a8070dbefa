package dev.wimg.storage.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.zip.CRC32C;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * The superblock: what is encoded decodes to the same fields, and a superblock that is cut short,
 * has a flipped bit, or is of another magic or version is refused with {@link
 * VolumeFormatException}; a damaged superblock is never decoded.
 */
class SuperblockTest {

  @Provide
  Arbitrary<Superblock> superblocks() {
    return Combinators.combine(Arbitraries.integers(), Arbitraries.integers(), Arbitraries.integers(),
        Arbitraries.longs()).as(Superblock::new);
  }

  static byte[] bytes(Superblock sb) {
    return sb.encode().array();
  }

  @Property(tries = 300)
  void encodedSuperblockDecodesToTheSameFields(@ForAll("superblocks") Superblock sb) throws Exception {
    ByteBuffer b = sb.encode();
    assertThat(b.position()).isZero();
    assertThat(b.remaining()).isEqualTo(Superblock.SIZE);
    assertThat(Superblock.decode(MemorySegment.ofArray(bytes(sb)), "v")).isEqualTo(sb);
  }

  @Property(tries = 50)
  void everyCutIsRefusedNamingTheSize(@ForAll("superblocks") Superblock sb) {
    MemorySegment whole = MemorySegment.ofArray(bytes(sb));
    for (int cut = 0; cut < Superblock.SIZE; cut++) {
      MemorySegment part = whole.asSlice(0, cut);
      assertThatThrownBy(() -> Superblock.decode(part, "1-1.dat")).isInstanceOf(VolumeFormatException.class)
          .hasMessage("1-1.dat: superblock needs 64 bytes, file has " + cut);
    }
  }

  @Property(tries = 50)
  void everySingleBitFlipIsRefused(@ForAll("superblocks") Superblock sb) {
    byte[] b = bytes(sb);
    for (int bit = 0; bit < b.length * 8; bit++) {
      byte[] flipped = b.clone();
      flipped[bit >>> 3] ^= (byte) (1 << (bit & 7));
      assertThatThrownBy(() -> Superblock.decode(MemorySegment.ofArray(flipped), "1-1.dat")).as("bit %d", bit)
          .isInstanceOf(VolumeFormatException.class)
          .hasMessageStartingWith(bit < 64 ? "1-1.dat: bad superblock magic 0x" : "1-1.dat: superblock checksum 0x");
    }
  }

  @Property(tries = 100)
  void bytesAfterTheSuperblockDoNotChangeIt(@ForAll("superblocks") Superblock sb,
      @ForAll @IntRange(min = 1, max = 200) int garbage, @ForAll long seed) throws Exception {
    byte[] file = new byte[Superblock.SIZE + garbage];
    new Random(seed).nextBytes(file);
    System.arraycopy(bytes(sb), 0, file, 0, Superblock.SIZE);
    assertThat(Superblock.decode(MemorySegment.ofArray(file), "v")).isEqualTo(sb);
  }

  @Property(tries = 100)
  void randomBytesAreRefused(@ForAll @IntRange(min = 64, max = 100) int length, @ForAll long seed,
      @ForAll boolean withMagic) {
    byte[] junk = new byte[length];
    new Random(seed).nextBytes(junk);
    if (withMagic) {
      // past the magic check, so that the checksum is what must refuse it
      ByteBuffer.wrap(junk).order(ByteOrder.LITTLE_ENDIAN).putLong(Superblock.OFF_MAGIC, Superblock.MAGIC);
    }
    assertThatThrownBy(() -> Superblock.decode(MemorySegment.ofArray(junk), "v"))
        .isInstanceOf(VolumeFormatException.class)
        .hasMessageStartingWith(withMagic ? "v: superblock checksum 0x" : "v: bad superblock magic 0x");
  }

  @Property(tries = 100)
  void anotherVersionOrMagicIsRefusedNamingWhatIsAccepted(@ForAll("superblocks") Superblock sb,
      @ForAll int version, @ForAll long magic) {
    if (version != Superblock.CURRENT_FORMAT_VERSION) {
      byte[] b = resealed(bytes(sb), Superblock.OFF_VERSION, version);
      assertThatThrownBy(() -> Superblock.decode(MemorySegment.ofArray(b), "1-2.dat"))
          .isInstanceOf(VolumeFormatException.class)
          .hasMessage("1-2.dat: volume format version " + version + " not readable, this build reads 1..1");
    }
    if (magic != Superblock.MAGIC) {
      byte[] b = bytes(sb);
      ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(Superblock.OFF_MAGIC, magic);
      byte[] sealed = resealed(b, Superblock.OFF_VERSION, Superblock.CURRENT_FORMAT_VERSION);
      assertThatThrownBy(() -> Superblock.decode(MemorySegment.ofArray(sealed), "1-2.dat"))
          .isInstanceOf(VolumeFormatException.class)
          .hasMessage("1-2.dat: bad superblock magic 0x" + Long.toHexString(magic) + ", expected 0x4c4f562d474d4957");
    }
  }

  /** {@code b} with the int at {@code offset} replaced and the checksum made to match again. */
  private static byte[] resealed(byte[] b, int offset, int value) {
    ByteBuffer buf = ByteBuffer.wrap(b.clone()).order(ByteOrder.LITTLE_ENDIAN);
    buf.putInt(offset, value);
    CRC32C crc = new CRC32C();
    crc.update(buf.array(), 0, Superblock.OFF_CRC);
    buf.putInt(Superblock.OFF_CRC, (int) crc.getValue());
    MemorySegment seg = MemorySegment.ofArray(buf.array());
    assertThat(seg.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), offset)).isEqualTo(value);
    return buf.array();
  }
}
