package dev.wimg.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.protocol.Fid;
import dev.wimg.storage.internal.NeedleCodec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Damage the files of a closed store the way a crash or a disk would, reopen, check. */
class RecoveryTest {

  static final int NEEDLES = 120;

  @TempDir
  Path tmp;
  Path base;
  List<WriteResult> written = new ArrayList<>();
  long validEnd;

  StoreConfig config(Path dir) {
    return StoreConfig.defaults(dir).withPreallocateBytes(256 << 10);
  }

  static byte[] bytes(int i) {
    byte[] b = new byte[(i * 131) % 3000];
    new Random(i).nextBytes(b);
    return b;
  }

  static byte[] content(StoredFile f) {
    byte[] out = new byte[f.data().remaining()];
    f.data().duplicate().get(out);
    return out;
  }

  @BeforeEach
  void writeBase() throws Exception {
    base = tmp.resolve("base");
    try (Store store = Store.open(config(base))) {
      for (int i = 0; i < NEEDLES; i++) {
        written.add(store.write(NewFile.of("n" + i, null, bytes(i))).get());
      }
      validEnd = store.stats().volumes().getFirst().usedBytes();
    }
  }

  Path copyOfBase(String name) throws IOException {
    Path dir = tmp.resolve(name);
    Files.createDirectories(dir);
    try (Stream<Path> files = Files.list(base)) {
      for (Path p : files.toList()) {
        Files.copy(p, dir.resolve(p.getFileName()));
      }
    }
    return dir;
  }

  /** Reopens, checks the first {@code intact} needles read back and the rest are gone, writes more. */
  void reopenAndCheck(Path dir, int intact) throws Exception {
    Fid added;
    try (Store store = Store.open(config(dir))) {
      for (int i = 0; i < NEEDLES; i++) {
        StoredFile f = store.read(written.get(i).fid());
        if (i < intact) {
          assertThat(f).as("needle %d", i).isNotNull();
          assertThat(content(f)).isEqualTo(bytes(i));
          assertThat(f.checksum()).isEqualTo(written.get(i).checksum());
        } else {
          assertThat(f).as("needle %d", i).isNull();
        }
      }
      assertThat(store.stats().liveNeedles()).isEqualTo(intact);
      added = store.write(NewFile.of("after", null, bytes(7))).get().fid();
      assertThat(added.key()).isEqualTo(intact);
    }
    try (Store store = Store.open(config(dir))) {
      assertThat(content(store.read(added))).isEqualTo(bytes(7));
      assertThat(store.stats().liveNeedles()).isEqualTo(intact + 1);
    }
    VerifyReport report = Store.verify(dir);
    assertThat(report.problems()).isEmpty();
    assertThat(report.liveNeedles()).isEqualTo(intact + 1);
  }

  @Test
  void indexLogTruncatedAtRandomPointsIsRebuiltFromTheVolume() throws Exception {
    long idxSize = Files.size(base.resolve("1-1.idx"));
    Random r = new Random(42);
    long[] cuts = {0, 5, 16, 16 + 7, idxSize - 1, 16 + 16 * (1 + r.nextInt(NEEDLES - 2)) + r.nextInt(16),
        16 + 16 * r.nextInt(NEEDLES)};
    for (long cut : cuts) {
      Path dir = copyOfBase("cut" + cut);
      try (FileChannel ch = FileChannel.open(dir.resolve("1-1.idx"), StandardOpenOption.WRITE)) {
        ch.truncate(cut);
      }
      reopenAndCheck(dir, NEEDLES);
    }
  }

  @Test
  void missingIndexLogIsRebuiltFromTheVolume() throws Exception {
    Path dir = copyOfBase("noidx");
    Files.delete(dir.resolve("1-1.idx"));
    reopenAndCheck(dir, NEEDLES);
  }

  @Test
  void damagedIndexEntryStopsTheLogAndTheRestIsRescanned() throws Exception {
    Path dir = copyOfBase("badentry");
    try (FileChannel ch = FileChannel.open(dir.resolve("1-1.idx"), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {(byte) 0xFF}), 16 + 16 * 30 + 5);
    }
    reopenAndCheck(dir, NEEDLES);
  }

  @Test
  void garbageAfterTheLastNeedleIsZeroedOnOpen() throws Exception {
    Path dir = copyOfBase("garbage");
    byte[] junk = new byte[5000];
    new Random(3).nextBytes(junk);
    try (FileChannel ch = FileChannel.open(dir.resolve("1-1.dat"), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(junk), validEnd);
    }
    assertThat(Store.verify(dir).problems()).singleElement().asString()
        .startsWith("1-1.dat: corrupt needle in volume 1 at offset " + validEnd + ": bad magic");
    try (Store store = Store.open(config(dir))) {
      assertThat(store.stats().volumes().getFirst().usedBytes()).isEqualTo(validEnd);
    }
    byte[] after = new byte[junk.length];
    try (FileChannel ch = FileChannel.open(dir.resolve("1-1.dat"), StandardOpenOption.READ)) {
      ch.read(ByteBuffer.wrap(after), validEnd);
    }
    assertThat(after).containsOnly(0);
    reopenAndCheck(dir, NEEDLES);
  }

  @Test
  void halfWrittenCopyOfANeedleAfterTheEndIsTornTailAndCleared() throws Exception {
    Path dir = copyOfBase("torn");
    Path dat = dir.resolve("1-1.dat");
    long lastOffset = entryOffset(dir, NEEDLES - 1);
    byte[] lastRecord = new byte[(int) (validEnd - lastOffset)];
    try (FileChannel ch = FileChannel.open(dat, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ch.read(ByteBuffer.wrap(lastRecord), lastOffset);
      ch.write(ByteBuffer.wrap(lastRecord, 0, lastRecord.length / 2), validEnd);
    }
    reopenAndCheck(dir, NEEDLES);
  }

  @Test
  void volumeCutInsideTheLastIndexedNeedleOpensReadOnlyAndUnchanged() throws Exception {
    // The log names only records that were forced before it named them, so a record it names that
    // is not there is acknowledged data gone missing: damage, not a write that did not finish.
    Path dir = copyOfBase("cutdat");
    long lastOffset = entryOffset(dir, NEEDLES - 1);
    try (FileChannel ch = FileChannel.open(dir.resolve("1-1.dat"), StandardOpenOption.WRITE)) {
      ch.truncate(lastOffset + (validEnd - lastOffset) / 2);
    }
    reopenInDoubtAndCheck(dir, NEEDLES - 1);
  }

  @Test
  void volumeCutInsideANeedleWithTheIndexLogGoneLosesEverythingFromThere() throws Exception {
    Path dir = copyOfBase("cutboth");
    long cutOffset = entryOffset(dir, 80);
    Files.delete(dir.resolve("1-1.idx"));
    try (FileChannel ch = FileChannel.open(dir.resolve("1-1.dat"), StandardOpenOption.WRITE)) {
      ch.truncate(cutOffset + 20);
    }
    reopenAndCheck(dir, 80);
  }

  @Test
  void indexEntriesWhoseRecordsAreZerosOpenTheVolumeReadOnlyAndUnchanged() throws Exception {
    // Indexed records whose bytes are zeros: they were forced before the log named them, so
    // this is damage (a lost write of the disk, or a stale file), and nothing is cleared.
    Path dir = copyOfBase("lostpages");
    long from = entryOffset(dir, 110);
    try (FileChannel ch = FileChannel.open(dir.resolve("1-1.dat"), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate((int) (validEnd - from)), from);
    }
    reopenInDoubtAndCheck(dir, 110);
  }

  @Test
  void damagedHeaderBehindAShortLogCostsOnlyThatNeedleAndNothingIsZeroed() throws Exception {
    // After a power loss the log may lack its last entries (it is not forced per batch), so the
    // records after its end are found by scanning. One damaged header among them must not cost
    // the acknowledged needles behind it: the scan looks past it.
    Path dir = copyOfBase("flipheader");
    cutIndexLog(dir, 40);
    long offset = entryOffset(base, 60);
    flipByte(dir.resolve("1-1.dat"), offset + 9); // inside the key: the header checksum fails
    Snapshot before = Snapshot.of(dir);
    try (Store store = Store.open(config(dir))) {
      for (int i = 0; i < NEEDLES; i++) {
        StoredFile f = store.read(written.get(i).fid());
        if (i == 60) {
          assertThat(f).as("needle with the damaged header").isNull();
        } else {
          assertThat(f).as("needle %d", i).isNotNull();
          assertThat(content(f)).as("needle %d", i).isEqualTo(bytes(i));
        }
      }
      StoreStats.VolumeStats v1 = store.stats().volumes().getFirst();
      assertThat(v1.readOnly()).isTrue();
      assertThat(v1.liveNeedles()).isEqualTo(NEEDLES - 1);
      assertThat(store.write(NewFile.of("new", null, bytes(3))).get().fid().volume()).isEqualTo(2);
    }
    assertThat(Snapshot.of(dir).volumeOne()).isEqualTo(before.volumeOne());
    assertThat(Store.verify(dir).problems()).isNotEmpty()
        .anySatisfy(p -> assertThat(p).startsWith("1-1.dat: corrupt needle in volume 1 at offset " + offset));
  }

  @Test
  void lostPageInTheUnindexedTailKeepsTheRecordsAfterIt() throws Exception {
    // Under fsync=interval a power loss can lose one page of the last interval and keep the next.
    Path dir = copyOfBase("hole");
    cutIndexLog(dir, 50);
    long from = entryOffset(base, 70) + 8;
    long to = entryOffset(base, 75);
    try (FileChannel ch = FileChannel.open(dir.resolve("1-1.dat"), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate((int) (to - from)), from);
    }
    try (Store store = Store.open(config(dir))) {
      for (int i = 0; i < NEEDLES; i++) {
        StoredFile f = store.read(written.get(i).fid());
        if (i >= 70 && i < 75) {
          assertThat(f).as("needle %d", i).isNull();
        } else {
          assertThat(content(f)).as("needle %d", i).isEqualTo(bytes(i));
        }
      }
      assertThat(store.stats().volumes().getFirst().readOnly()).isTrue();
    }
  }

  @Test
  void aNeedleHiddenInAStoredFileNeverTakesTheKeyOfTheRealOne() throws Exception {
    // A stored file may itself hold bytes that look like records (a volume file uploaded as a
    // file). When the scan looks past damage it can meet them; they must not hide real needles.
    Path dir = tmp.resolve("embedded");
    List<WriteResult> ws = new ArrayList<>();
    try (Store store = Store.open(config(dir))) {
      for (int i = 0; i < 10; i++) {
        ws.add(store.write(NewFile.of(null, null, bytes(i))).get());
      }
      WriteResult victim = ws.get(3);
      // the record of key 11 as someone might guess it, and a tombstone for key 3 without its cookie
      ByteBuffer fake = NeedleCodec.encode(0, null, null, 11, 0x1234, 0, List.of(ByteBuffer.wrap(new byte[100])));
      ByteBuffer tomb = NeedleCodec.encodeTombstone(victim.fid().key(), victim.fid().cookie() ^ 1, 0);
      byte[] carrier = new byte[fake.remaining() + tomb.remaining() + 64];
      fake.get(carrier, 0, fake.remaining());
      tomb.get(carrier, carrier.length - 64 - tomb.remaining(), tomb.remaining());
      ws.add(store.write(NewFile.of(null, null, carrier)).get()); // key 10
      ws.add(store.write(NewFile.of(null, null, bytes(11))).get()); // key 11, the real one
      ws.add(store.write(NewFile.of(null, null, bytes(12))).get());
    }
    long carrierOffset = entryOffset(dir, 10);
    cutIndexLog(dir, 10);
    flipByte(dir.resolve("1-1.dat"), carrierOffset + 9);
    try (Store store = Store.open(config(dir))) {
      assertThat(content(store.read(ws.get(11).fid()))).isEqualTo(bytes(11));
      assertThat(content(store.read(ws.get(12).fid()))).isEqualTo(bytes(12));
      assertThat(content(store.read(ws.get(3).fid()))).isEqualTo(bytes(3));
      assertThat(store.read(new Fid(1, 1, 11, 0x1234))).isNull();
    }
  }

  @Test
  void volumeFileShorterThanASuperblockLeftByAnInterruptedCreationIsRemoved() throws Exception {
    // Older builds created 1-2.dat in place; a crash before its superblock was on disk left a few
    // bytes, and the whole store refused to start.
    Path dir = copyOfBase("short");
    Files.write(dir.resolve("1-2.dat"), new byte[20]);
    Files.write(dir.resolve("1-2.idx"), new byte[0]);
    reopenAndCheck(dir, NEEDLES);
    assertThat(dir.resolve("1-2.dat")).doesNotExist();
  }

  @Test
  void volumeBeingCreatedWhenTheProcessDiedIsRemoved() throws Exception {
    Path dir = copyOfBase("creating");
    Files.write(dir.resolve("1-2.dat.creating"), new byte[20]);
    Files.write(dir.resolve("1-2.idx"), new byte[16]);
    reopenAndCheck(dir, NEEDLES);
    assertThat(dir.resolve("1-2.dat.creating")).doesNotExist();
  }

  @Test
  void aShortVolumeFileThatIsNotTheNewestStopsTheOpen() throws Exception {
    Path dir = copyOfBase("shortold");
    Files.move(dir.resolve("1-1.dat"), dir.resolve("1-2.dat"));
    Files.move(dir.resolve("1-1.idx"), dir.resolve("1-2.idx"));
    Files.write(dir.resolve("1-1.dat"), new byte[20]);
    assertThatThrownBy(() -> Store.open(config(dir))).isInstanceOf(IOException.class)
        .hasMessage("1-1.dat: superblock needs 64 bytes, file has 20");
  }

  @Test
  void logNeverNamesRecordsTheVolumeHasNotForced() throws Exception {
    // fsync=interval with an interval that never passes in the test: records are acknowledged
    // from the page cache. A power loss then keeps what was forced (the sealed volume 1) and may
    // lose all of volume 2's records. More than the 16 MiB that recovery re-verifies are written,
    // so a log that named them would point at zeros (and answer "corrupt" for files that are gone).
    Path dir = tmp.resolve("interval");
    StoreConfig cfg = config(dir).withFsyncPolicy(FsyncPolicy.INTERVAL).withFsyncInterval(java.time.Duration.ofHours(1))
        .withVolumeSizeLimit(32 << 20);
    List<WriteResult> first = new ArrayList<>();
    List<WriteResult> second = new ArrayList<>();
    byte[] big = new byte[64 << 10];
    new Random(1).nextBytes(big);
    try (Store store = Store.open(cfg)) {
      while (store.stats().volumes().size() < 2) {
        first.add(store.write(NewFile.of(null, null, big)).get());
      }
      second.add(first.removeLast()); // the write that opened volume 2
      for (int i = 0; i < 400; i++) {
        second.add(store.write(NewFile.of(null, null, big)).get());
      }
      // What a power loss at this moment may leave: volume 2's unforced pages lost.
      Path lost = tmp.resolve("interval-after-power-loss");
      Files.createDirectories(lost);
      for (String f : List.of("1-1.dat", "1-1.idx", "1-2.idx")) {
        Files.copy(dir.resolve(f), lost.resolve(f));
      }
      byte[] superblock = new byte[64];
      try (FileChannel ch = FileChannel.open(dir.resolve("1-2.dat"), StandardOpenOption.READ)) {
        ch.read(ByteBuffer.wrap(superblock), 0);
      }
      try (FileChannel ch = FileChannel.open(lost.resolve("1-2.dat"), StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE)) {
        ch.write(ByteBuffer.wrap(superblock), 0);
        ch.write(ByteBuffer.allocate(1), Files.size(dir.resolve("1-2.dat")) - 1);
      }
      try (Store after = Store.open(cfg.withDataDir(lost))) {
        for (WriteResult w : first) {
          assertThat(content(after.read(w.fid()))).isEqualTo(big);
        }
        for (WriteResult w : second) {
          assertThat(after.read(w.fid())).isNull();
        }
        assertThat(after.stats().volumes().getLast().readOnly()).as("volume 2 in doubt").isFalse();
      }
    }
  }

  /** Opens a damaged volume: read-only, the first {@code intact} needles served, files unchanged. */
  void reopenInDoubtAndCheck(Path dir, int intact) throws Exception {
    Snapshot before = Snapshot.of(dir);
    try (Store store = Store.open(config(dir))) {
      for (int i = 0; i < NEEDLES; i++) {
        StoredFile f = store.read(written.get(i).fid());
        if (i < intact) {
          assertThat(content(f)).as("needle %d", i).isEqualTo(bytes(i));
        } else {
          assertThat(f).as("needle %d", i).isNull();
        }
      }
      assertThat(store.stats().volumes().getFirst().readOnly()).isTrue();
      Fid added = store.write(NewFile.of("after", null, bytes(7))).get().fid();
      assertThat(added.volume()).isEqualTo(2);
    }
    assertThat(Snapshot.of(dir).volumeOne()).isEqualTo(before.volumeOne());
    assertThat(Store.verify(dir).problems()).isNotEmpty();
  }

  /** The bytes of volume 1's two files. */
  record Snapshot(List<String> volumeOne) {
    static Snapshot of(Path dir) throws IOException {
      return new Snapshot(List.of(
          java.util.HexFormat.of().formatHex(Files.readAllBytes(dir.resolve("1-1.dat"))),
          java.util.HexFormat.of().formatHex(Files.readAllBytes(dir.resolve("1-1.idx")))));
    }
  }

  static void cutIndexLog(Path dir, int entries) throws IOException {
    try (FileChannel ch = FileChannel.open(dir.resolve("1-1.idx"), StandardOpenOption.WRITE)) {
      ch.truncate(16 + 16L * entries);
    }
  }

  static void flipByte(Path file, long at) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, at);
      b.put(0, (byte) (b.get(0) ^ 0x10)).rewind();
      ch.write(b, at);
    }
  }

  @Test
  void flippedDataByteIsReportedAsCorruptWithVolumeAndOffsetAndNeverServed() throws Exception {
    Path dir = copyOfBase("flip");
    long offset = entryOffset(dir, 40);
    try (FileChannel ch = FileChannel.open(dir.resolve("1-1.dat"), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, offset + 32 + 6 + 10);
      b.put(0, (byte) (b.get(0) ^ 0x10)).rewind();
      ch.write(b, offset + 32 + 6 + 10);
    }
    try (Store store = Store.open(config(dir))) {
      assertThatThrownBy(() -> store.read(written.get(40).fid()))
          .isInstanceOfSatisfying(CorruptNeedleException.class, e -> {
            assertThat(e.volume()).isEqualTo(1);
            assertThat(e.offset()).isEqualTo(offset);
          })
          .hasMessageStartingWith("corrupt needle in volume 1 at offset " + offset + ": record checksum 0x");
      assertThat(content(store.read(written.get(41).fid()))).isEqualTo(bytes(41));
    }
    VerifyReport report = Store.verify(dir);
    assertThat(report.problems()).singleElement().asString()
        .startsWith("1-1.dat: corrupt needle in volume 1 at offset " + offset + ": record checksum 0x");
    assertThat(report.needlesChecked()).isEqualTo(NEEDLES);
  }

  @Test
  void corruptNeedleInTheMiddleDoesNotCostTheNeedlesAfterItWhenTheLogIsRebuilt() throws Exception {
    Path dir = copyOfBase("flipnoidx");
    long offset = entryOffset(dir, 40);
    Files.delete(dir.resolve("1-1.idx"));
    try (FileChannel ch = FileChannel.open(dir.resolve("1-1.dat"), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {0x55}), offset + 32 + 6 + 10);
    }
    try (Store store = Store.open(config(dir))) {
      assertThatThrownBy(() -> store.read(written.get(40).fid())).isInstanceOf(CorruptNeedleException.class);
      for (int i = 41; i < NEEDLES; i++) {
        assertThat(content(store.read(written.get(i).fid()))).isEqualTo(bytes(i));
      }
    }
  }

  @Test
  void unknownVolumeFormatVersionIsRejectedWithTheAcceptedRange() throws Exception {
    Path dir = copyOfBase("v9");
    ByteBuffer sb = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel ch = FileChannel.open(dir.resolve("1-1.dat"), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ch.read(sb, 0);
      sb.putInt(8, 9);
      java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
      crc.update(sb.array(), 0, 60);
      sb.putInt(60, (int) crc.getValue());
      ch.write(sb.rewind(), 0);
    }
    assertThatThrownBy(() -> Store.open(config(dir))).isInstanceOf(IOException.class)
        .hasMessage("1-1.dat: volume format version 9 not readable, this build reads 1..1");
  }

  @Test
  void nonZeroBytesBeyondWhatATornWriteCanLeaveOpenTheVolumeReadOnlyAndUnchanged() throws Exception {
    Path dir = copyOfBase("damage");
    Path dat = dir.resolve("1-1.dat");
    byte[] junk = new byte[65 << 20];
    new Random(5).nextBytes(junk);
    try (FileChannel ch = FileChannel.open(dat, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(junk), validEnd);
    }
    long size = Files.size(dat);
    try (Store store = Store.open(config(dir))) {
      StoreStats.VolumeStats v1 = store.stats().volumes().getFirst();
      assertThat(v1.readOnly()).isTrue();
      assertThat(v1.liveNeedles()).isEqualTo(NEEDLES);
      assertThat(content(store.read(written.get(5).fid()))).isEqualTo(bytes(5));
      assertThat(store.write(NewFile.of("new", null, bytes(3))).get().fid().volume()).isEqualTo(2);
    }
    assertThat(Files.size(dat)).isEqualTo(size);
    byte[] back = new byte[16];
    try (FileChannel ch = FileChannel.open(dat, StandardOpenOption.READ)) {
      ch.read(ByteBuffer.wrap(back), validEnd);
    }
    assertThat(back).isEqualTo(java.util.Arrays.copyOf(junk, 16));
  }

  static long entryOffset(Path dir, int n) throws IOException {
    ByteBuffer e = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel ch = FileChannel.open(dir.resolve("1-1.idx"), StandardOpenOption.READ)) {
      ch.read(e, 16 + 16L * n);
    }
    return Integer.toUnsignedLong(e.getInt(4)) << 3;
  }
}
