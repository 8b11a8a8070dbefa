package dev.wimg.storage.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;

/**
 * The index log read back from real files: what was written comes back, and damage (a cut, a
 * flipped bit, appended garbage, another header) stops reading at the last whole valid entry with
 * a reason, or rejects the header; an entry is never handed out with fields that were not written.
 */
class IndexLogTest {

  record Entry(long key, long offsetUnits, long lengthUnits, boolean tombstone) {}

  /** What a read saw: the entries visited and its result. */
  record Seen(List<Entry> entries, IndexLog.ReadResult result) {}

  private Path dir;

  @BeforeProperty
  void createFolder() throws IOException {
    dir = Files.createTempDirectory("index-log-test");
  }

  @AfterProperty
  void deleteFolder() throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Provide
  Arbitrary<Entry> entries() {
    return Combinators.combine(Arbitraries.longs().between(0, 0xFFFF_FFFFL),
            Arbitraries.longs().between(0, 0xFFFF_FFFFL), Arbitraries.longs().between(0, 0x7FFF_FFFFL),
            Arbitraries.of(true, false))
        .as(Entry::new);
  }

  @Provide
  Arbitrary<List<Entry>> logs() {
    return entries().list().ofMaxSize(12);
  }

  /** Logs for the bit-flip property, which reads the file once per bit. */
  @Provide
  Arbitrary<List<Entry>> shortLogs() {
    return entries().list().ofMinSize(1).ofMaxSize(6);
  }

  static byte[] encode(int revision, List<Entry> entries) {
    ByteBuffer b = ByteBuffer.allocate(IndexLog.HEADER_SIZE + IndexLog.ENTRY_SIZE * entries.size())
        .order(ByteOrder.LITTLE_ENDIAN);
    b.put(IndexLog.encodeHeader(revision));
    CRC32C crc = new CRC32C();
    for (Entry e : entries) {
      IndexLog.putEntry(b, crc, e.key(), e.offsetUnits(), e.lengthUnits(), e.tombstone());
    }
    assertThat(b.hasRemaining()).isFalse();
    return b.array();
  }

  Path file(byte[] bytes) throws IOException {
    Path f = Files.createTempFile(dir, "log", ".idx");
    Files.write(f, bytes);
    return f;
  }

  static Seen read(Path file, int expectedRevision) throws IOException {
    List<Entry> seen = new ArrayList<>();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      IndexLog.ReadResult r = IndexLog.read(ch, file.toString(), expectedRevision, (k, o, l, t) -> {
        seen.add(new Entry(k, o, l, t));
        return true;
      });
      return new Seen(seen, r);
    }
  }

  static long entryOffset(long n) {
    return IndexLog.HEADER_SIZE + IndexLog.ENTRY_SIZE * n;
  }

  @Property(tries = 200)
  void writtenEntriesReadBackExactly(@ForAll("logs") List<Entry> entries, @ForAll int revision)
      throws IOException {
    Path f = file(encode(revision, entries));
    Seen s = read(f, revision);
    assertThat(s.entries()).isEqualTo(entries);
    assertThat(s.result()).isEqualTo(new IndexLog.ReadResult(entries.size(), Files.size(f), null));
  }

  @Property(tries = 40)
  void everyCutStopsAtTheLastWholeEntry(@ForAll("logs") List<Entry> entries) throws IOException {
    byte[] log = encode(7, entries);
    Path f = file(log);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
      // from the end down, so that each cut leaves the prefix as written
      for (long cut = log.length - 1; cut >= 0; cut--) {
        ch.truncate(cut);
        if (cut < IndexLog.HEADER_SIZE) {
          long size = cut;
          assertThatThrownBy(() -> read(f, 7)).isInstanceOf(VolumeFormatException.class)
              .hasMessage(f + ": index header needs 16 bytes, file has " + size);
          continue;
        }
        long whole = (cut - IndexLog.HEADER_SIZE) / IndexLog.ENTRY_SIZE;
        long partial = cut - entryOffset(whole);
        Seen s = read(f, 7);
        assertThat(s.entries()).as("cut at %d", cut).isEqualTo(entries.subList(0, (int) whole));
        assertThat(s.result()).as("cut at %d", cut).isEqualTo(new IndexLog.ReadResult(whole, entryOffset(whole),
            partial == 0 ? null : "partial entry of " + partial + " bytes at offset " + entryOffset(whole)));
      }
    }
  }

  @Property(tries = 12)
  void aBitFlipInAnyByteIsRejectedOrStopsReadingBeforeTheFlippedEntry(
      @ForAll("shortLogs") List<Entry> entries, @ForAll int revision, @ForAll @IntRange(min = 0, max = 7) int shift)
      throws IOException {
    // one bit of every byte per try (the file is read once per flip); the tries vary which bit
    byte[] log = encode(revision, entries);
    Path f = file(log);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
      for (int at = 0; at < log.length; at++) {
        int bit = 8 * at + ((at + shift) & 7);
        ch.write(ByteBuffer.wrap(new byte[] {(byte) (log[at] ^ (1 << (bit & 7)))}), at);
        if (at < IndexLog.HEADER_SIZE) {
          assertThatThrownBy(() -> read(f, revision)).as("bit %d", bit)
              .isInstanceOf(VolumeFormatException.class)
              .hasMessageStartingWith(at < IndexLog.OFF_VERSION
                  ? f + ": bad index magic 0x"
                  : f + ": index header checksum mismatch");
        } else {
          long flipped = (at - IndexLog.HEADER_SIZE) / IndexLog.ENTRY_SIZE;
          Seen s = read(f, revision);
          assertThat(s.entries()).as("bit %d", bit).isEqualTo(entries.subList(0, (int) flipped));
          assertThat(s.result()).as("bit %d", bit).isEqualTo(new IndexLog.ReadResult(flipped,
              entryOffset(flipped), "entry " + flipped + " at offset " + entryOffset(flipped)
                  + " fails its checksum"));
        }
        ch.write(ByteBuffer.wrap(new byte[] {log[at]}), at);
      }
    }
  }

  @Property(tries = 100)
  void garbageAppendedIsNeverReadAsAnEntry(@ForAll("logs") List<Entry> entries,
      @ForAll @IntRange(min = 1, max = 100) int garbage, @ForAll long seed) throws IOException {
    byte[] log = encode(3, entries);
    byte[] junk = new byte[garbage];
    new Random(seed).nextBytes(junk);
    Path f = file(log);
    Files.write(f, junk, StandardOpenOption.APPEND);
    Seen s = read(f, 3);
    // a 16-byte run of random bytes passes the CRC32C with probability 2^-32: not here
    assertThat(s.entries()).isEqualTo(entries);
    long end = log.length;
    assertThat(s.result()).isEqualTo(new IndexLog.ReadResult(entries.size(), end, garbage < IndexLog.ENTRY_SIZE
        ? "partial entry of " + garbage + " bytes at offset " + end
        : "entry " + entries.size() + " at offset " + end + " fails its checksum"));
  }

  @Property(tries = 100)
  void aVisitorThatStopsDropsTheRestOfTheLog(@ForAll("logs") List<Entry> entries,
      @ForAll @IntRange(min = 0, max = 11) int stopAt) throws IOException {
    Path f = file(encode(5, entries));
    List<Entry> seen = new ArrayList<>();
    IndexLog.ReadResult r;
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      r = IndexLog.read(ch, "x", 5, (k, o, l, t) -> {
        if (seen.size() == stopAt) {
          return false;
        }
        seen.add(new Entry(k, o, l, t));
        return true;
      });
    }
    if (stopAt >= entries.size()) {
      assertThat(seen).isEqualTo(entries);
      assertThat(r).isEqualTo(new IndexLog.ReadResult(entries.size(), entryOffset(entries.size()), null));
    } else {
      assertThat(seen).isEqualTo(entries.subList(0, stopAt));
      assertThat(r).isEqualTo(new IndexLog.ReadResult(stopAt, entryOffset(stopAt),
          "entry " + stopAt + " at offset " + entryOffset(stopAt) + " does not match the volume"));
    }
  }

  @Property(tries = 50)
  void anotherVersionOrRevisionOrMagicIsRejectedNamingWhatIsAccepted(
      @ForAll @IntRange(min = 0, max = 0xFFFF) int version, @ForAll int revision, @ForAll int expected,
      @ForAll int magic, @ForAll("logs") List<Entry> entries) throws IOException {
    byte[] log = encode(revision, entries);
    ByteBuffer header = ByteBuffer.wrap(log).order(ByteOrder.LITTLE_ENDIAN);
    if (revision != expected) {
      Path f = file(log);
      assertThatThrownBy(() -> read(f, expected)).isInstanceOf(VolumeFormatException.class)
          .hasMessage(f + ": index revision " + revision + " does not match volume revision " + expected);
    }
    if (version != IndexLog.CURRENT_VERSION) {
      header.putShort(IndexLog.OFF_VERSION, (short) version);
      resealHeader(log);
      Path g = file(log);
      assertThatThrownBy(() -> read(g, revision)).isInstanceOf(VolumeFormatException.class)
          .hasMessage(g + ": index version " + version + " not readable, this build reads 1..1");
      header.putShort(IndexLog.OFF_VERSION, (short) IndexLog.CURRENT_VERSION);
    }
    if (magic != IndexLog.MAGIC) {
      header.putInt(IndexLog.OFF_MAGIC, magic);
      resealHeader(log);
      Path g = file(log);
      assertThatThrownBy(() -> read(g, revision)).isInstanceOf(VolumeFormatException.class)
          .hasMessage(g + ": bad index magic 0x" + Integer.toHexString(magic) + ", expected 0x58444957");
    }
  }

  /** Rewrites the header checksum, as a writer of another version would have. */
  private static void resealHeader(byte[] log) {
    CRC32C crc = new CRC32C();
    crc.update(log, 0, IndexLog.OFF_HEADER_CRC);
    ByteBuffer.wrap(log).order(ByteOrder.LITTLE_ENDIAN).putInt(IndexLog.OFF_HEADER_CRC, (int) crc.getValue());
  }

  @Property(tries = 300)
  void anEntryThatDoesNotFitIsRefusedAndOneThatFitsReadsBack(@ForAll long key, @ForAll long offsetUnits,
      @ForAll long lengthUnits, @ForAll boolean tombstone) throws IOException {
    // edge values are what matters here: jqwik mixes in 0, ±1, MIN and MAX; add the format's limits
    long k = key % 3 == 0 ? key & 0x1_FFFF_FFFFL : key;
    long o = offsetUnits % 3 == 0 ? offsetUnits & 0x1_FFFF_FFFFL : offsetUnits;
    long l = lengthUnits % 3 == 0 ? lengthUnits & 0xFFFF_FFFFL : lengthUnits;
    ByteBuffer b = ByteBuffer.allocate(IndexLog.ENTRY_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    boolean fits = k >= 0 && k <= 0xFFFF_FFFFL && o >= 0 && o <= 0xFFFF_FFFFL && l >= 0 && l <= 0x7FFF_FFFFL;
    if (!fits) {
      assertThatThrownBy(() -> IndexLog.putEntry(b, new CRC32C(), k, o, l, tombstone))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("index entry out of range: key " + k + ", offset units " + o + " (u32), length units "
              + l + " (31 bits)");
      assertThat(b.position()).as("nothing written").isZero();
      return;
    }
    List<Entry> one = List.of(new Entry(k, o, l, tombstone));
    assertThat(read(file(encode(1, one)), 1).entries()).isEqualTo(one);
  }
}
