package dev.wimg.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.protocol.Fid;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member's copy of a peer's volume is made of the ranges the writer's store hands its {@link
 * AppendListener} and of {@link Store#readRecords}, appended with {@link Store#copy}: byte for
 * byte the writer's volume, and refused whole when a byte is wrong (docs/CLUSTER.md,
 * "Replication").
 */
class VolumeCopyTest {

  @TempDir
  Path writerDir;
  @TempDir
  Path copyDir;

  /** A range the writer's store reported, copied out of the mapping. */
  private record Range(int volume, int revision, long offset, byte[] bytes) {}

  private static StoreConfig config(Path dir, int slot) {
    return StoreConfig.defaults(dir).withPreallocateBytes(1 << 20).withVolumeSizeLimit(4 << 20)
        .withSlot(slot);
  }

  private static AppendListener recordingInto(List<Range> ranges) {
    return (volume, revision, offset, bytes) -> {
      byte[] copy = new byte[bytes.remaining()];
      bytes.duplicate().get(copy);
      synchronized (ranges) {
        ranges.add(new Range(volume, revision, offset, copy));
      }
    };
  }

  private static byte[] payload(long seed, int size) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] read(Store store, Fid fid) throws Exception {
    StoredFile f = store.read(fid);
    if (f == null) {
      return null;
    }
    byte[] out = new byte[f.data().remaining()];
    f.data().duplicate().get(out);
    return out;
  }

  private static byte[] volumeBytes(Path dir, int volume, long length) throws Exception {
    try (FileChannel ch = FileChannel.open(dir.resolve("1-" + volume + ".dat"), StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(length));
      while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
        // read on
      }
      return b.array();
    }
  }

  private static long usedBytes(Store store, int volume) {
    return store.stats().volumes().stream().filter(v -> v.id() == volume).findFirst().orElseThrow()
        .usedBytes();
  }

  @Test
  void theRangesAWriterReportsMakeAByteIdenticalCopyThatServesAndSurvivesAReopen() throws Exception {
    List<Range> ranges = new ArrayList<>();
    List<Fid> fids = new ArrayList<>();
    List<byte[]> payloads = new ArrayList<>();
    try (Store writer = Store.open(config(writerDir, 1), recordingInto(ranges));
         Store copy = Store.open(config(copyDir, 2))) {
      // writes in flight together form batches of several records; 5 MB spill into a second volume
      List<CompletableFuture<WriteResult>> writes = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        byte[] p = payload(i, 1000 + i * 2500);
        payloads.add(p);
        writes.add(writer.write(NewFile.of("f" + i, "application/octet-stream", p)));
      }
      for (CompletableFuture<WriteResult> w : writes) {
        fids.add(w.get().fid());
      }
      assertThat(writer.delete(fids.get(7)).get()).isTrue();
      assertThat(writer.delete(fids.get(50)).get()).isTrue();
      synchronized (ranges) {
        for (Range r : ranges) {
          long end = copy.copy(r.volume(), r.revision(), r.offset(), ByteBuffer.wrap(r.bytes())).get();
          assertThat(end).isEqualTo(r.offset() + r.bytes().length);
        }
      }
      List<Integer> volumes = fids.stream().map(Fid::volume).distinct().toList();
      assertThat(volumes).containsExactly(65_537, 65_538);
      for (int v : volumes) {
        long length = usedBytes(writer, v);
        assertThat(usedBytes(copy, v)).isEqualTo(length);
        assertThat(volumeBytes(copyDir, v, length)).isEqualTo(volumeBytes(writerDir, v, length));
      }
      for (int i = 0; i < fids.size(); i++) {
        assertThat(read(copy, fids.get(i))).isEqualTo(i == 7 || i == 50 ? null : payloads.get(i));
      }
      // the copy takes no delete of the writer's volume: that would make it differ
      assertThatThrownBy(() -> copy.delete(fids.get(3)).get())
          .hasCauseInstanceOf(IllegalArgumentException.class).hasMessageContaining("written by slot 1");
    }
    try (Store copy = Store.open(config(copyDir, 2))) {
      for (int i = 0; i < fids.size(); i++) {
        assertThat(read(copy, fids.get(i))).isEqualTo(i == 7 || i == 50 ? null : payloads.get(i));
      }
    }
  }

  @Test
  void readRecordsPagesThroughAVolumeInWholeRecordsForACatchUp() throws Exception {
    List<Fid> fids = new ArrayList<>();
    try (Store writer = Store.open(config(writerDir, 1));
         Store copy = Store.open(config(copyDir, 2))) {
      for (int i = 0; i < 20; i++) {
        fids.add(writer.write(NewFile.of(null, null, payload(i, 3000))).get().fid());
      }
      int volume = fids.getFirst().volume();
      long length = usedBytes(writer, volume);
      long at = 0;
      int pages = 0;
      while (true) {
        ByteBuffer page = writer.readRecords(volume, 0, at, 10_000);
        if (!page.hasRemaining()) {
          break;
        }
        assertThat(page.remaining()).isLessThanOrEqualTo(10_000);
        at = copy.copy(volume, 0, at, page).get();
        pages++;
      }
      assertThat(at).isEqualTo(length);
      assertThat(pages).isGreaterThan(5);
      assertThat(volumeBytes(copyDir, volume, length)).isEqualTo(volumeBytes(writerDir, volume, length));
      // one record larger than maxBytes comes whole
      assertThat(writer.readRecords(volume, 0, 0, 1).remaining()).isGreaterThan(3000);
      assertThat(writer.readRecords(999, 0, 0, 1)).isNull();
      assertThatThrownBy(() -> writer.readRecords(volume, 0, length + 8, 100)).isInstanceOf(java.io.IOException.class);
    }
  }

  @Test
  void aCopyThatSkipsAheadOrRepeatsOrCarriesABadByteChangesNothing() throws Exception {
    List<Range> ranges = new ArrayList<>();
    try (Store writer = Store.open(config(writerDir, 1), recordingInto(ranges));
         Store copy = Store.open(config(copyDir, 2))) {
      writer.write(NewFile.of(null, null, payload(1, 5000))).get();
      writer.write(NewFile.of(null, null, payload(2, 5000))).get();
      writer.write(NewFile.of(null, null, payload(3, 5000))).get();
      assertThat(ranges).hasSize(3);
      Range first = ranges.get(0);
      Range second = ranges.get(1);
      Range third = ranges.get(2);
      // a volume the copy does not hold must start at 0 with its superblock
      assertThat(failure(copy.copy(second.volume(), 0, second.offset(), ByteBuffer.wrap(second.bytes()))))
          .isInstanceOfSatisfying(CopyOffsetException.class, e -> assertThat(e.end()).isZero());
      long afterFirst = copy.copy(first.volume(), 0, 0, ByteBuffer.wrap(first.bytes())).get();
      // a gap: the answer names where the copy ends
      assertThat(failure(copy.copy(third.volume(), 0, third.offset(), ByteBuffer.wrap(third.bytes()))))
          .isInstanceOfSatisfying(CopyOffsetException.class, e -> assertThat(e.end()).isEqualTo(afterFirst));
      // a byte flipped inside the payload: refused whole
      byte[] bad = second.bytes().clone();
      bad[100] ^= 0x40;
      assertThat(failure(copy.copy(second.volume(), 0, second.offset(), ByteBuffer.wrap(bad))))
          .isInstanceOf(CorruptNeedleException.class);
      assertThat(usedBytes(copy, first.volume())).isEqualTo(afterFirst);
      // the right bytes, twice (an answer lost on the way): appended once
      long afterSecond = copy.copy(second.volume(), 0, second.offset(), ByteBuffer.wrap(second.bytes())).get();
      assertThat(copy.copy(second.volume(), 0, second.offset(), ByteBuffer.wrap(second.bytes())).get())
          .isEqualTo(afterSecond);
      assertThat(copy.copy(first.volume(), 0, 0, ByteBuffer.wrap(first.bytes())).get()).isEqualTo(afterSecond);
      assertThat(usedBytes(copy, first.volume())).isEqualTo(afterSecond);
      // a store takes no copy of its own volumes
      assertThat(failure(writer.copy(first.volume(), 0, afterSecond, ByteBuffer.wrap(third.bytes()))))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  /** A listener that records ranges and the files copies deleted. */
  private static AppendListener recording(List<Range> ranges, List<Fid> deletedByCopies) {
    AppendListener appends = recordingInto(ranges);
    return new AppendListener() {
      @Override
      public void appended(int volume, int revision, long offset, ByteBuffer bytes) {
        appends.appended(volume, revision, offset, bytes);
      }

      @Override
      public void deletedByCopy(Fid fid) {
        synchronized (deletedByCopies) {
          deletedByCopies.add(fid);
        }
      }
    };
  }

  private static void applyAll(Store copy, List<Range> ranges) throws Exception {
    synchronized (ranges) {
      for (Range r : ranges) {
        copy.copy(r.volume(), r.revision(), r.offset(), ByteBuffer.wrap(r.bytes())).get();
      }
      ranges.clear();
    }
  }

  private static int revision(Store store, int volume) {
    return store.stats().volumes().stream().filter(v -> v.id() == volume).findFirst().orElseThrow()
        .revision();
  }

  @Test
  void aCopyFollowsItsWritersVacuumByAReplacementAndReportsTheFilesItsCopiesDeleted() throws Exception {
    List<Range> ranges = new ArrayList<>();
    List<Fid> copiedDeletes = new ArrayList<>();
    List<Fid> fids = new ArrayList<>();
    List<byte[]> payloads = new ArrayList<>();
    int volume;
    try (Store writer = Store.open(config(writerDir, 1), recordingInto(ranges));
         Store copy = Store.open(config(copyDir, 2), recording(new ArrayList<>(), copiedDeletes))) {
      for (int i = 0; i < 40; i++) {
        byte[] p = payload(100 + i, 3000 + i * 10);
        payloads.add(p);
        fids.add(writer.write(NewFile.of("f" + i, null, p)).get().fid());
      }
      volume = fids.getFirst().volume();
      for (int i = 0; i < 40; i += 3) {
        assertThat(writer.delete(fids.get(i)).get()).isTrue();
      }
      applyAll(copy, ranges);
      // the tombstones the copy took name the files it deleted (their derived pictures go)
      List<Fid> deletedFirst = new ArrayList<>();
      for (int i = 0; i < 40; i += 3) {
        deletedFirst.add(fids.get(i));
      }
      assertThat(copiedDeletes).containsExactlyInAnyOrderElementsOf(deletedFirst);
      copiedDeletes.clear();
      long before = usedBytes(writer, volume);

      // the writer vacuums; the copy may not, and its old revision takes no more copies
      assertThat(writer.vacuum(volume).get()).isPositive();
      assertThat(revision(writer, volume)).isEqualTo(1);
      assertThat(usedBytes(writer, volume)).isLessThan(before);
      assertThat(failure(copy.vacuum(volume))).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("slot 1");
      assertThat(writer.delete(fids.get(1)).get()).isTrue();
      Range afterVacuum = ranges.getLast();
      assertThat(afterVacuum.revision()).isEqualTo(1);
      assertThat(failure(copy.copy(volume, 1, afterVacuum.offset(), ByteBuffer.wrap(afterVacuum.bytes()))))
          .isInstanceOfSatisfying(CopyRevisionException.class, e -> assertThat(e.revision()).isZero());
      ranges.clear();
      assertThatThrownBy(() -> writer.readRecords(volume, 0, 0, 1000))
          .isInstanceOfSatisfying(CopyRevisionException.class, e -> assertThat(e.revision()).isEqualTo(1));
      assertThatThrownBy(() -> writer.replaceCopy(volume, 2)).isInstanceOf(IllegalArgumentException.class);

      // a replacement abandoned half-way leaves the old copy as it was, and no files behind
      try (CopyReplacement abandoned = copy.replaceCopy(volume, 1)) {
        abandoned.append(writer.readRecords(volume, 1, 0, 10_000));
        assertThat(abandoned.length()).isPositive();
        assertThatThrownBy(() -> copy.replaceCopy(volume, 1)).isInstanceOf(IllegalArgumentException.class);
      }
      assertThat(copyDir.resolve("1-" + volume + ".dat.compact")).doesNotExist();
      assertThat(copyDir.resolve("1-" + volume + ".idx.compact")).doesNotExist();
      assertThat(read(copy, fids.get(1))).isEqualTo(payloads.get(1));

      // the whole new revision, in pages, then swapped in
      long length = usedBytes(writer, volume);
      try (CopyReplacement replacement = copy.replaceCopy(volume, 1)) {
        while (replacement.length() < length) {
          replacement.append(writer.readRecords(volume, 1, replacement.length(), 10_000));
        }
        // a bad byte in a page is refused whole
        assertThatThrownBy(() -> replacement.append(ByteBuffer.wrap(new byte[64])))
            .isInstanceOf(CorruptNeedleException.class);
        assertThat(replacement.commit().get()).isEqualTo(length);
      }
      assertThat(revision(copy, volume)).isEqualTo(1);
      assertThat(usedBytes(copy, volume)).isEqualTo(length);
      assertThat(volumeBytes(copyDir, volume, length)).isEqualTo(volumeBytes(writerDir, volume, length));
      // file 1 was deleted and vacuumed away while the copy held it: reported as deleted
      assertThat(copiedDeletes).containsExactly(fids.get(1));
      // and the copy goes on from the new revision
      assertThat(writer.delete(fids.get(2)).get()).isTrue();
      applyAll(copy, ranges);
      assertThat(copiedDeletes).containsExactly(fids.get(1), fids.get(2));
      assertThat(volumeBytes(copyDir, volume, usedBytes(writer, volume)))
          .isEqualTo(volumeBytes(writerDir, volume, usedBytes(writer, volume)));
    }
    try (Store copy = Store.open(config(copyDir, 2))) {
      assertThat(revision(copy, volume)).isEqualTo(1);
      for (int i = 0; i < fids.size(); i++) {
        boolean deleted = i % 3 == 0 || i == 1 || i == 2;
        assertThat(read(copy, fids.get(i))).isEqualTo(deleted ? null : payloads.get(i));
      }
    }
  }

  @Test
  void aNewCopyOfAVacuumedVolumeStartsAtItsRevision() throws Exception {
    try (Store writer = Store.open(config(writerDir, 1));
         Store copy = Store.open(config(copyDir, 2))) {
      List<Fid> fids = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        fids.add(writer.write(NewFile.of(null, null, payload(i, 2000))).get().fid());
      }
      int volume = fids.getFirst().volume();
      writer.delete(fids.get(0)).get();
      writer.vacuum(volume).get();
      ByteBuffer all = writer.readRecords(volume, 1, 0, 1 << 20);
      assertThat(failure(copy.copy(volume, 0, 0, all.duplicate()))).isInstanceOf(dev.wimg.storage.internal.VolumeFormatException.class);
      long end = copy.copy(volume, 1, 0, all).get();
      assertThat(end).isEqualTo(usedBytes(writer, volume));
      assertThat(revision(copy, volume)).isEqualTo(1);
      assertThat(read(copy, fids.get(5))).isEqualTo(payload(5, 2000));
    }
  }

  private static Throwable failure(CompletableFuture<?> f) {
    try {
      f.get();
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("expected the copy to fail");
  }
}
