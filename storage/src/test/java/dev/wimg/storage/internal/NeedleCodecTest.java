package dev.wimg.storage.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.storage.CorruptNeedleException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class NeedleCodecTest {

  record Input(String name, String mime, long key, int cookie, long lastModified, byte[] data) {
    ByteBuffer encode() {
      return NeedleCodec.encode(0, name, mime, key, cookie, lastModified, List.of(ByteBuffer.wrap(data)));
    }
  }

  @Provide
  Arbitrary<Input> needles() {
    Arbitrary<String> names = Arbitraries.strings().ofMaxLength(40).injectNull(0.3);
    Arbitrary<String> mimes = Arbitraries.strings().withCharRange('a', 'z').ofMaxLength(30).injectNull(0.3);
    return Combinators.combine(names, mimes, Arbitraries.longs().between(0, 0xFFFF_FFFFL),
            Arbitraries.integers(), Arbitraries.longs(),
            Arbitraries.bytes().array(byte[].class).ofMaxSize(300))
        .as(Input::new);
  }

  static MemorySegment segment(ByteBuffer b) {
    byte[] a = new byte[b.remaining()];
    b.duplicate().get(a);
    return MemorySegment.ofArray(a);
  }

  @Property(tries = 300)
  void encodedNeedleDecodesToTheSameFields(@ForAll("needles") Input in) throws Exception {
    ByteBuffer rec = in.encode();
    assertThat(rec.remaining() % NeedleCodec.ALIGNMENT).isZero();
    MemorySegment seg = segment(rec);
    Needle n = NeedleCodec.decode(seg, 0, seg.byteSize(), 1);
    assertThat(n.name()).isEqualTo(in.name());
    assertThat(n.mime()).isEqualTo(in.mime());
    assertThat(n.header().key()).isEqualTo(in.key());
    assertThat(n.header().cookie()).isEqualTo(in.cookie());
    assertThat(n.header().lastModified()).isEqualTo(in.lastModified());
    assertThat(n.header().tombstone()).isFalse();
    assertThat(n.header().recordLength()).isEqualTo(rec.remaining());
    byte[] data = new byte[n.data().remaining()];
    n.data().get(data);
    assertThat(data).isEqualTo(in.data());
  }

  @Property(tries = 60)
  void everyTruncationFailsAsIncomplete(@ForAll("needles") Input in) {
    MemorySegment seg = segment(in.encode());
    for (long cut = 0; cut < seg.byteSize(); cut++) {
      long end = cut;
      assertThatThrownBy(() -> NeedleCodec.decode(seg, 0, end, 3))
          .isInstanceOf(IncompleteNeedleException.class)
          .hasMessageStartingWith("corrupt needle in volume 3 at offset 0: incomplete: ");
      assertThatThrownBy(() -> NeedleCodec.decode(seg.asSlice(0, end), 0, Long.MAX_VALUE, 3))
          .isInstanceOf(IncompleteNeedleException.class);
    }
  }

  @Property(tries = 40)
  void everySingleBitFlipIsDetected(@ForAll("needles") Input in) {
    byte[] rec = segment(in.encode()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    for (int bit = 0; bit < rec.length * 8; bit++) {
      byte[] flipped = rec.clone();
      flipped[bit >>> 3] ^= (byte) (1 << (bit & 7));
      MemorySegment seg = MemorySegment.ofArray(flipped);
      assertThatThrownBy(() -> NeedleCodec.decode(seg, 0, seg.byteSize(), 1))
          .as("bit %d", bit)
          .isInstanceOf(CorruptNeedleException.class)
          .hasMessageStartingWith("corrupt needle in volume 1 at offset 0: ");
    }
  }

  @Property(tries = 50)
  void randomBytesNeverDecodeAndNeverThrowAnythingElse(
      @ForAll @IntRange(min = 0, max = 200) int length, @ForAll long seed) {
    byte[] junk = new byte[length];
    new java.util.Random(seed).nextBytes(junk);
    MemorySegment seg = MemorySegment.ofArray(junk);
    assertThatThrownBy(() -> NeedleCodec.decode(seg, 0, seg.byteSize(), 1))
        .isInstanceOf(CorruptNeedleException.class);
  }

  @Test
  void tombstoneIsFortyBytesAndFlagged() throws Exception {
    ByteBuffer t = NeedleCodec.encodeTombstone(42, 0x1234, 7);
    assertThat(t.remaining()).isEqualTo(NeedleCodec.TOMBSTONE_RECORD_LENGTH).isEqualTo(40);
    MemorySegment seg = segment(t);
    NeedleHeader h = NeedleCodec.decode(seg, 0, seg.byteSize(), 1).header();
    assertThat(h.tombstone()).isTrue();
    assertThat(h.key()).isEqualTo(42);
    assertThat(h.cookie()).isEqualTo(0x1234);
  }

  @Test
  void badMagicAndUnknownVersionAreNamedWithTheirValues() {
    byte[] rec = segment(new Input("n", "m", 1, 2, 3, new byte[] {1, 2, 3}).encode())
        .toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    byte[] badMagic = rec.clone();
    badMagic[0] = 0;
    assertThatThrownBy(() -> NeedleCodec.decode(MemorySegment.ofArray(badMagic), 0, rec.length, 5))
        .hasMessage("corrupt needle in volume 5 at offset 0: bad magic 0x4c444e00, expected 0x4C444E57");
    ByteBuffer v2 = ByteBuffer.wrap(rec.clone()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    v2.put(NeedleCodec.OFF_VERSION, (byte) 2);
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(v2.array(), 0, NeedleCodec.OFF_HEADER_CRC);
    v2.putInt(NeedleCodec.OFF_HEADER_CRC, (int) crc.getValue());
    assertThatThrownBy(() -> NeedleCodec.decode(MemorySegment.ofArray(v2.array()), 0, rec.length, 5))
        .hasMessage("corrupt needle in volume 5 at offset 0: needle version 2 not readable, this build reads 1..1");
  }
}
