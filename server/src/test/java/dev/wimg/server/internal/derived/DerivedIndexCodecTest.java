package dev.wimg.server.internal.derived;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.wimg.protocol.Fid;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * The derived index log ({@link DerivedIndexCodec}) read back the way {@link DerivedIndex} loads
 * it: header, then entries until the first that fails. What was written comes back; a cut, a
 * flipped bit or appended garbage stops the replay at the last whole valid entry with {@link
 * CorruptDerivedIndexException} (never another exception), and no entry is returned with fields
 * that were not written.
 */
class DerivedIndexCodecTest {

  /** What a replay saw: the entries, where it stopped and why (null if at the end). */
  record Replay(List<DerivedIndexCodec.Entry> entries, int end, CorruptDerivedIndexException stop) {}

  @Provide
  Arbitrary<Fid> fids() {
    return Combinators.combine(Arbitraries.integers().between(1, Fid.MAX_GROUP),
        Arbitraries.integers().between(1, Fid.MAX_VOLUME), Arbitraries.longs().between(0, Fid.MAX_KEY),
        Arbitraries.integers()).as(Fid::new);
  }

  @Provide
  Arbitrary<DerivedIndexCodec.Entry> entries() {
    // any text that UTF-8 can carry: no unpaired surrogates (see utf8IsRequired...)
    Arbitrary<String> text = Arbitraries.strings().all().ofMaxLength(60)
        .filter(s -> new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).equals(s));
    Arbitrary<String> mime = Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(DerivedIndexCodec.MAX_MIME_BYTES);
    Arbitrary<DerivedIndexCodec.Entry> adds = Combinators.combine(fids(), fids(), Arbitraries.integers(),
            Arbitraries.longs().between(0, 0xFFFF_FFFFL), text, mime)
        .as(DerivedIndexCodec.Add::new);
    Arbitrary<DerivedIndexCodec.Entry> removes = fids().map(DerivedIndexCodec.Remove::new);
    return Arbitraries.oneOf(adds, removes);
  }

  @Provide
  Arbitrary<List<DerivedIndexCodec.Entry>> logs() {
    return entries().list().ofMaxSize(6);
  }

  static byte[] log(List<DerivedIndexCodec.Entry> entries) {
    List<ByteBuffer> parts = new ArrayList<>();
    parts.add(DerivedIndexCodec.header());
    for (DerivedIndexCodec.Entry e : entries) {
      parts.add(DerivedIndexCodec.encode(e));
    }
    ByteBuffer all = ByteBuffer.allocate(parts.stream().mapToInt(ByteBuffer::remaining).sum());
    parts.forEach(all::put);
    return all.array();
  }

  /** Where each entry of the log starts, and where the last one ends. */
  static List<Integer> starts(List<DerivedIndexCodec.Entry> entries) {
    List<Integer> starts = new ArrayList<>();
    int at = DerivedIndexCodec.HEADER_SIZE;
    starts.add(at);
    for (DerivedIndexCodec.Entry e : entries) {
      at += DerivedIndexCodec.encode(e).remaining();
      starts.add(at);
    }
    return starts;
  }

  /** Replays the entries of {@code file} as {@link DerivedIndex} loads it; the header must pass. */
  static Replay replay(ByteBuffer file) throws CorruptDerivedIndexException {
    DerivedIndexCodec.checkHeader(file);
    List<DerivedIndexCodec.Entry> seen = new ArrayList<>();
    int at = DerivedIndexCodec.HEADER_SIZE;
    while (at < file.limit()) {
      DerivedIndexCodec.Decoded d;
      try {
        d = DerivedIndexCodec.decode(file, at, at);
      } catch (CorruptDerivedIndexException e) {
        assertThat(e.offset()).isEqualTo(at);
        return new Replay(seen, at, e);
      }
      seen.add(d.entry());
      at += d.length();
    }
    return new Replay(seen, at, null);
  }

  @Property(tries = 300)
  void writtenEntriesReplayExactly(@ForAll("logs") List<DerivedIndexCodec.Entry> entries)
      throws CorruptDerivedIndexException {
    byte[] log = log(entries);
    Replay r = replay(ByteBuffer.wrap(log));
    assertThat(r.entries()).isEqualTo(entries);
    assertThat(r.end()).isEqualTo(log.length);
    assertThat(r.stop()).isNull();
  }

  @Property(tries = 40)
  void everyCutStopsAtTheLastWholeEntry(@ForAll("logs") List<DerivedIndexCodec.Entry> entries)
      throws CorruptDerivedIndexException {
    byte[] log = log(entries);
    List<Integer> starts = starts(entries);
    for (int cut = 0; cut < log.length; cut++) {
      ByteBuffer file = ByteBuffer.wrap(log, 0, cut).slice();
      if (cut < DerivedIndexCodec.HEADER_SIZE) {
        assertThatThrownBy(() -> DerivedIndexCodec.checkHeader(file)).isInstanceOf(CorruptDerivedIndexException.class)
            .hasMessage("derived index header is truncated at offset 0");
        continue;
      }
      int whole = 0;
      while (starts.get(whole + 1) <= cut) {
        whole++;
      }
      Replay r = replay(file);
      assertThat(r.entries()).as("cut at %d", cut).isEqualTo(entries.subList(0, whole));
      assertThat(r.end()).as("cut at %d", cut).isEqualTo(starts.get(whole));
      if (starts.get(whole) == cut) {
        assertThat(r.stop()).isNull();
      } else {
        assertThat(r.stop()).as("cut at %d", cut).hasMessageMatching(
            "derived index entry (length )?is truncated at offset " + starts.get(whole));
      }
    }
  }

  @Property(tries = 40)
  void everySingleBitFlipInAnEntryStopsTheReplayBeforeIt(@ForAll("logs") List<DerivedIndexCodec.Entry> entries)
      throws CorruptDerivedIndexException {
    byte[] log = log(entries);
    List<Integer> starts = starts(entries);
    for (int bit = 8 * DerivedIndexCodec.HEADER_SIZE; bit < log.length * 8; bit++) {
      byte[] flipped = log.clone();
      flipped[bit >>> 3] ^= (byte) (1 << (bit & 7));
      int at = bit >>> 3;
      int hit = 0;
      while (starts.get(hit + 1) <= at) {
        hit++;
      }
      Replay r = replay(ByteBuffer.wrap(flipped));
      assertThat(r.entries()).as("bit %d", bit).isEqualTo(entries.subList(0, hit));
      assertThat(r.end()).as("bit %d", bit).isEqualTo(starts.get(hit));
      assertThat(r.stop()).as("bit %d", bit).isNotNull();
    }
  }

  @Property(tries = 40)
  void aBitFlipInTheMagicOrVersionRefusesTheLog(@ForAll @IntRange(min = 0, max = 47) int bit) {
    byte[] header = log(List.of());
    header[bit >>> 3] ^= (byte) (1 << (bit & 7));
    int version = Short.toUnsignedInt(ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getShort(4));
    assertThatThrownBy(() -> DerivedIndexCodec.checkHeader(ByteBuffer.wrap(header)))
        .isInstanceOf(CorruptDerivedIndexException.class)
        .hasMessage(bit < 32 ? "derived index has no WDIX magic at offset 0"
            : "derived index version " + version + " not readable, this build reads 1..1 at offset 0");
  }

  @Property(tries = 100)
  void garbageAppendedIsNeverReplayedAsAnEntry(@ForAll("logs") List<DerivedIndexCodec.Entry> entries,
      @ForAll @IntRange(min = 1, max = 300) int garbage, @ForAll long seed, @ForAll boolean plausibleLength)
      throws CorruptDerivedIndexException {
    byte[] log = log(entries);
    byte[] file = new byte[log.length + garbage];
    new Random(seed).nextBytes(file);
    System.arraycopy(log, 0, file, 0, log.length);
    if (plausibleLength && garbage >= 4) {
      // a length that fits, so that the CRC is what must refuse the garbage
      ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).putInt(log.length, Math.max(1, garbage - 8));
    }
    Replay r = replay(ByteBuffer.wrap(file));
    assertThat(r.entries()).isEqualTo(entries);
    assertThat(r.end()).isEqualTo(log.length);
    assertThat(r.stop()).isNotNull();
  }

  @Property(tries = 100)
  void anotherVersionIsRefusedNamingWhatIsAccepted(@ForAll @IntRange(min = 0, max = 0xFFFF) int version,
      @ForAll("logs") List<DerivedIndexCodec.Entry> entries) {
    ByteBuffer file = ByteBuffer.wrap(log(entries)).order(ByteOrder.LITTLE_ENDIAN);
    file.putShort(4, (short) version);
    if (version == DerivedIndexCodec.VERSION) {
      return;
    }
    assertThatThrownBy(() -> DerivedIndexCodec.checkHeader(file)).isInstanceOf(CorruptDerivedIndexException.class)
        .hasMessage("derived index version " + version + " not readable, this build reads 1..1 at offset 0");
  }

  @Property(tries = 200)
  void anAddThatTheFormatCannotHoldIsRefusedNotWrapped(@ForAll("fids") Fid original, @ForAll("fids") Fid derived,
      @ForAll long size, @ForAll("awkwardText") String key, @ForAll("awkwardText") String mime)
      throws CorruptDerivedIndexException {
    DerivedIndexCodec.Add add = new DerivedIndexCodec.Add(original, derived, 7, size, key, mime);
    boolean fits = size >= 0 && size <= 0xFFFF_FFFFL
        && key.getBytes(StandardCharsets.UTF_8).length <= DerivedIndexCodec.MAX_KEY_BYTES
        && mime.getBytes(StandardCharsets.UTF_8).length <= DerivedIndexCodec.MAX_MIME_BYTES
        && utf8Carries(key) && utf8Carries(mime);
    ByteBuffer encoded;
    try {
      encoded = DerivedIndexCodec.encode(add);
    } catch (IllegalArgumentException e) {
      assertThat(fits).as("refused: " + e.getMessage()).isFalse();
      return;
    }
    DerivedIndexCodec.Entry decoded = DerivedIndexCodec.decode(encoded, 0, 0).entry();
    if (!fits) {
      fail("encoded an ADD the format cannot hold (size " + size + ", key " + chars(key) + ", media type "
          + chars(mime) + "); it decodes as " + decoded.toString().codePoints()
              .mapToObj(c -> c < 0x7F ? Character.toString(c) : "\\u" + Integer.toHexString(c))
              .reduce("", String::concat));
    }
    assertThat(decoded).isEqualTo(add);
  }

  @Provide
  Arbitrary<String> awkwardText() {
    return Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(20),
        Arbitraries.strings().withCharRange('\uD800', '\uDFFF').ofMinLength(1).ofMaxLength(3),
        Arbitraries.strings().withCharRange('a', 'z').ofMinLength(250).ofMaxLength(300));
  }

  /** The UTF-16 units of {@code s}, printable whatever they are. */
  private static String chars(String s) {
    return s.length() > 8 ? s.length() + " chars" : s.chars().mapToObj(Integer::toHexString).toList().toString();
  }

  private static boolean utf8Carries(String s) {
    return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).equals(s);
  }
}
