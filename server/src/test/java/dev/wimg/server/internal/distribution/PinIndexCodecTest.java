package dev.wimg.server.internal.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.wimg.protocol.Fid;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * The pin index log format ({@link PinIndexCodec}): every entry kind comes back as written, sits at
 * the offsets its Javadoc table draws, and a cut or a flipped bit is refused with {@link
 * PinIndexCodec.BadEntryException}, never decoded as some other entry; a header of another magic or
 * version is named by {@link PinIndexCodec#headerProblem}.
 */
class PinIndexCodecTest {

  @Provide
  Arbitrary<Fid> fids() {
    return Combinators.combine(Arbitraries.integers().between(1, Fid.MAX_GROUP),
        Arbitraries.integers().between(1, Fid.MAX_VOLUME), Arbitraries.longs().between(0, Fid.MAX_KEY),
        Arbitraries.integers()).as(Fid::new);
  }

  @Provide
  Arbitrary<PinIndexCodec.Entry> entries() {
    Arbitrary<PinIndexCodec.Entry> pieces = Combinators.combine(fids(), fids(), fids(), Arbitraries.integers())
        .as(PinIndexCodec.Piece::new);
    Arbitrary<PinIndexCodec.Entry> files = Combinators.combine(fids(), fids(), Arbitraries.integers())
        .as(PinIndexCodec.File::new);
    Arbitrary<PinIndexCodec.Entry> drops = fids().map(PinIndexCodec.Drop::new);
    return Arbitraries.oneOf(pieces, files, drops);
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  private static int bodySize(PinIndexCodec.Entry entry) {
    return switch (entry) {
      case PinIndexCodec.Piece p -> PinIndexCodec.PIECE_BODY;
      case PinIndexCodec.File f -> PinIndexCodec.FILE_BODY;
      case PinIndexCodec.Drop d -> PinIndexCodec.DROP_BODY;
    };
  }

  @Property(tries = 500)
  void everyEntryRoundTrips(@ForAll("entries") PinIndexCodec.Entry entry) throws PinIndexCodec.BadEntryException {
    ByteBuffer encoded = PinIndexCodec.encode(entry);
    assertThat(encoded.position()).isZero();
    assertThat(encoded.remaining()).isEqualTo(1 + bodySize(entry) + 4);
    PinIndexCodec.Decoded decoded = PinIndexCodec.decode(encoded, 0);
    assertThat(decoded.entry()).isEqualTo(entry);
    assertThat(decoded.length()).isEqualTo(encoded.remaining());
  }

  @Property(tries = 200)
  void anEntryDecodesAtAnyOffsetOfALargerBuffer(@ForAll("entries") PinIndexCodec.Entry entry,
      @ForAll @IntRange(min = 0, max = 40) int before, @ForAll @IntRange(min = 0, max = 40) int after)
      throws PinIndexCodec.BadEntryException {
    byte[] encoded = bytes(PinIndexCodec.encode(entry));
    byte[] file = new byte[before + encoded.length + after];
    java.util.Arrays.fill(file, (byte) 0x5A);
    System.arraycopy(encoded, 0, file, before, encoded.length);
    PinIndexCodec.Decoded decoded = PinIndexCodec.decode(ByteBuffer.wrap(file), before);
    assertThat(decoded.entry()).isEqualTo(entry);
    assertThat(decoded.length()).isEqualTo(encoded.length);
  }

  @Example
  void bodySizesAreThoseOfTheTable() {
    assertThat(PinIndexCodec.FID_SIZE).isEqualTo(14);
    assertThat(PinIndexCodec.PIECE_BODY).isEqualTo(46);
    assertThat(PinIndexCodec.FILE_BODY).isEqualTo(32);
    assertThat(PinIndexCodec.DROP_BODY).isEqualTo(14);
    assertThat(PinIndexCodec.HEADER_SIZE).isEqualTo(8);
    Fid fid = new Fid(1, 2, 3, 4);
    assertThat(PinIndexCodec.encode(new PinIndexCodec.Piece(fid, fid, fid, 0)).remaining()).isEqualTo(1 + 46 + 4);
    assertThat(PinIndexCodec.encode(new PinIndexCodec.File(fid, fid, 0)).remaining()).isEqualTo(1 + 32 + 4);
    assertThat(PinIndexCodec.encode(new PinIndexCodec.Drop(fid)).remaining()).isEqualTo(1 + 14 + 4);
  }

  @Example
  void theHeaderIsMagicVersionAndReserved() {
    ByteBuffer header = PinIndexCodec.header();
    assertThat(bytes(header)).containsExactly('W', 'P', 'I', 'X', 1, 0, 0, 0);
    assertThat(PinIndexCodec.headerProblem(header)).isNull();
  }

  /** A fid as the table draws it, written field by field at its own offsets. */
  private static void putFid(ByteBuffer b, int at, int group, int volume, int key, int cookie) {
    b.putShort(at, (short) group);
    b.putInt(at + 2, volume);
    b.putInt(at + 6, key);
    b.putInt(at + 10, cookie);
  }

  /** Seals a hand-built entry of {@code size} bytes with the CRC32C of all but its last 4 bytes. */
  private static ByteBuffer seal(ByteBuffer b) {
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, b.capacity() - 4);
    b.putInt(b.capacity() - 4, (int) crc.getValue());
    return b;
  }

  @Example
  void aHandBuiltPieceDecodesFieldByField() throws PinIndexCodec.BadEntryException {
    ByteBuffer b = ByteBuffer.allocate(1 + 46 + 4).order(ByteOrder.LITTLE_ENDIAN);
    b.put(0, (byte) 1);
    putFid(b, 1, 0xFFFF, 0x00FF_FFFF, 0xFFFF_FFFE, 0x89AB_CDEF);
    putFid(b, 1 + 14, 2, 3, 4, 5);
    putFid(b, 1 + 28, 0x0102, 0x0003_0405, 0x0607_0809, -1);
    b.putInt(1 + 42, 0x8000_0001);
    PinIndexCodec.Decoded d = PinIndexCodec.decode(seal(b), 0);
    assertThat(d.entry()).isEqualTo(new PinIndexCodec.Piece(new Fid(0xFFFF, 0xFF_FFFF, 0xFFFF_FFFEL, 0x89AB_CDEF),
        new Fid(2, 3, 4, 5), new Fid(0x0102, 0x0003_0405, 0x0607_0809L, -1), 0x8000_0001));
    assertThat(d.length()).isEqualTo(51);
    // and the encoder writes exactly those bytes
    assertThat(bytes(PinIndexCodec.encode(d.entry()))).isEqualTo(b.array());
  }

  @Example
  void aHandBuiltFileDecodesFieldByField() throws PinIndexCodec.BadEntryException {
    ByteBuffer b = ByteBuffer.allocate(1 + 32 + 4).order(ByteOrder.LITTLE_ENDIAN);
    b.put(0, (byte) 2);
    putFid(b, 1, 7, 0x0001_0001, 0x1234_5678, 0x0BAD_F00D);
    putFid(b, 1 + 14, 1, 0x0001_0000, 0, 0);
    b.putInt(1 + 28, 0xCAFE_BABE);
    PinIndexCodec.Decoded d = PinIndexCodec.decode(seal(b), 0);
    assertThat(d.entry()).isEqualTo(new PinIndexCodec.File(new Fid(7, 0x0001_0001, 0x1234_5678L, 0x0BAD_F00D),
        new Fid(1, 0x0001_0000, 0, 0), 0xCAFE_BABE));
    assertThat(d.length()).isEqualTo(37);
    assertThat(bytes(PinIndexCodec.encode(d.entry()))).isEqualTo(b.array());
  }

  @Example
  void aHandBuiltDropDecodesFieldByField() throws PinIndexCodec.BadEntryException {
    ByteBuffer b = ByteBuffer.allocate(1 + 14 + 4).order(ByteOrder.LITTLE_ENDIAN);
    b.put(0, (byte) 3);
    putFid(b, 1, 0x1234, 0x0056_789A, 0xFFFF_FFFF, 0x7FFF_FFFF);
    PinIndexCodec.Decoded d = PinIndexCodec.decode(seal(b), 0);
    assertThat(d.entry()).isEqualTo(new PinIndexCodec.Drop(new Fid(0x1234, 0x56_789A, 0xFFFF_FFFFL, 0x7FFF_FFFF)));
    assertThat(d.length()).isEqualTo(19);
    assertThat(bytes(PinIndexCodec.encode(d.entry()))).isEqualTo(b.array());
  }

  @Example
  void aSealedEntryWithAFidOutOfRangeIsRefusedAsDamage() {
    // group 0 and a volume past 2^24 - 1 are written by no writer; the CRC passes, the fid does not
    ByteBuffer groupZero = ByteBuffer.allocate(19).order(ByteOrder.LITTLE_ENDIAN);
    groupZero.put(0, (byte) 3);
    putFid(groupZero, 1, 0, 1, 1, 1);
    assertThatThrownBy(() -> PinIndexCodec.decode(seal(groupZero), 0))
        .isInstanceOf(PinIndexCodec.BadEntryException.class)
        .hasMessage("pin index entry at offset 0: group must be 1..65535, got 0");
    ByteBuffer bigVolume = ByteBuffer.allocate(19).order(ByteOrder.LITTLE_ENDIAN);
    bigVolume.put(0, (byte) 3);
    putFid(bigVolume, 1, 1, 0x0100_0000, 1, 1);
    assertThatThrownBy(() -> PinIndexCodec.decode(seal(bigVolume), 0))
        .isInstanceOf(PinIndexCodec.BadEntryException.class)
        .hasMessage("pin index entry at offset 0: volume must be 1..16777215, got 16777216");
  }

  @Example
  void anUnknownKindIsRefusedNamingIt() {
    for (int kind : new int[] {0, 4, 0x7F, 0x80, 0xFF}) {
      ByteBuffer b = ByteBuffer.allocate(64);
      b.put(0, (byte) kind);
      assertThatThrownBy(() -> PinIndexCodec.decode(b, 0)).isInstanceOf(PinIndexCodec.BadEntryException.class)
          .hasMessage("pin index entry at offset 0: unknown kind " + kind);
    }
  }

  @Property(tries = 100)
  void everyCutOfAnEntryIsRefused(@ForAll("entries") PinIndexCodec.Entry entry) {
    byte[] encoded = bytes(PinIndexCodec.encode(entry));
    for (int cut = 0; cut < encoded.length; cut++) {
      ByteBuffer prefix = ByteBuffer.wrap(encoded, 0, cut).slice();
      int length = cut;
      assertThatThrownBy(() -> PinIndexCodec.decode(prefix, 0)).as("cut at %d", length)
          .isInstanceOf(PinIndexCodec.BadEntryException.class)
          .hasMessage(cut == 0 ? "pin index entry at offset 0: no kind byte" : "pin index entry at offset 0: cut short");
    }
  }

  @Property(tries = 100)
  void everySingleBitFlipOfAnEntryIsRefused(@ForAll("entries") PinIndexCodec.Entry entry) {
    byte[] encoded = bytes(PinIndexCodec.encode(entry));
    for (int bit = 0; bit < encoded.length * 8; bit++) {
      byte[] flipped = encoded.clone();
      flipped[bit >>> 3] ^= (byte) (1 << (bit & 7));
      // the entry alone, and the entry followed by room for any kind's length: a flipped kind
      // must fail its CRC, not only run out of bytes
      byte[] roomy = java.util.Arrays.copyOf(flipped, 1 + PinIndexCodec.PIECE_BODY + 4 + 8);
      for (byte[] file : new byte[][] {flipped, roomy}) {
        try {
          PinIndexCodec.Decoded d = PinIndexCodec.decode(ByteBuffer.wrap(file), 0);
          fail("bit %d flipped decodes as %s (%d bytes), written as %s", bit, d.entry(), d.length(), entry);
        } catch (PinIndexCodec.BadEntryException expected) {
          assertThat(expected).hasMessageStartingWith("pin index entry at offset 0: ");
        }
      }
    }
  }

  @Property(tries = 100)
  void aHeaderWithAnotherMagicIsNamed(@ForAll @IntRange(min = 0, max = 31) int bit) {
    byte[] header = bytes(PinIndexCodec.header());
    header[bit >>> 3] ^= (byte) (1 << (bit & 7));
    assertThat(PinIndexCodec.headerProblem(ByteBuffer.wrap(header))).isEqualTo("no WPIX magic");
  }

  @Property(tries = 200)
  void aHeaderOfAnotherVersionIsNamedWithTheRangeRead(@ForAll @IntRange(min = 0, max = 0xFFFF) int version) {
    ByteBuffer header = ByteBuffer.wrap(bytes(PinIndexCodec.header())).order(ByteOrder.LITTLE_ENDIAN);
    header.putShort(4, (short) version);
    String problem = PinIndexCodec.headerProblem(header);
    if (version == PinIndexCodec.VERSION) {
      assertThat(problem).isNull();
    } else {
      assertThat(problem).isEqualTo("format version " + version + " is not read here; this build reads 1..1");
    }
  }

  @Example
  void aHeaderCutShortIsNamed() {
    byte[] header = bytes(PinIndexCodec.header());
    for (int cut = 0; cut < header.length; cut++) {
      assertThat(PinIndexCodec.headerProblem(ByteBuffer.wrap(header, 0, cut).slice())).as("cut at %d", cut)
          .isEqualTo("the header is cut short");
    }
  }
}
