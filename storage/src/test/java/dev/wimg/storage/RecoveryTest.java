package dev.wimg.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.protocol.Fid;
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
  void volumeCutInsideTheLastNeedleLosesOnlyThatNeedle() throws Exception {
    Path dir = copyOfBase("cutdat");
    long lastOffset = entryOffset(dir, NEEDLES - 1);
    try (FileChannel ch = FileChannel.open(dir.resolve("1-1.dat"), StandardOpenOption.WRITE)) {
      ch.truncate(lastOffset + (validEnd - lastOffset) / 2);
    }
    reopenAndCheck(dir, NEEDLES - 1);
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
  void indexEntriesForRecordsThatNeverReachedTheDiskAreDropped() throws Exception {
    // Power loss after the log was written but before the volume's pages were: the log names
    // needles whose bytes are zeros.
    Path dir = copyOfBase("lostpages");
    long from = entryOffset(dir, 110);
    try (FileChannel ch = FileChannel.open(dir.resolve("1-1.dat"), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate((int) (validEnd - from)), from);
    }
    reopenAndCheck(dir, 110);
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
