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
  private record Range(int volume, long offset, byte[] bytes) {}

  private static StoreConfig config(Path dir, int slot) {
    return StoreConfig.defaults(dir).withPreallocateBytes(1 << 20).withVolumeSizeLimit(4 << 20)
        .withSlot(slot);
  }

  private static AppendListener recordingInto(List<Range> ranges) {
    return (volume, offset, bytes) -> {
      byte[] copy = new byte[bytes.remaining()];
      bytes.duplicate().get(copy);
      synchronized (ranges) {
        ranges.add(new Range(volume, offset, copy));
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
          long end = copy.copy(r.volume(), r.offset(), ByteBuffer.wrap(r.bytes())).get();
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
        ByteBuffer page = writer.readRecords(volume, at, 10_000);
        if (!page.hasRemaining()) {
          break;
        }
        assertThat(page.remaining()).isLessThanOrEqualTo(10_000);
        at = copy.copy(volume, at, page).get();
        pages++;
      }
      assertThat(at).isEqualTo(length);
      assertThat(pages).isGreaterThan(5);
      assertThat(volumeBytes(copyDir, volume, length)).isEqualTo(volumeBytes(writerDir, volume, length));
      // one record larger than maxBytes comes whole
      assertThat(writer.readRecords(volume, 0, 1).remaining()).isGreaterThan(3000);
      assertThat(writer.readRecords(999, 0, 1)).isNull();
      assertThatThrownBy(() -> writer.readRecords(volume, length + 8, 100)).isInstanceOf(java.io.IOException.class);
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
      assertThat(failure(copy.copy(second.volume(), second.offset(), ByteBuffer.wrap(second.bytes()))))
          .isInstanceOfSatisfying(CopyOffsetException.class, e -> assertThat(e.end()).isZero());
      long afterFirst = copy.copy(first.volume(), 0, ByteBuffer.wrap(first.bytes())).get();
      // a gap: the answer names where the copy ends
      assertThat(failure(copy.copy(third.volume(), third.offset(), ByteBuffer.wrap(third.bytes()))))
          .isInstanceOfSatisfying(CopyOffsetException.class, e -> assertThat(e.end()).isEqualTo(afterFirst));
      // a byte flipped inside the payload: refused whole
      byte[] bad = second.bytes().clone();
      bad[100] ^= 0x40;
      assertThat(failure(copy.copy(second.volume(), second.offset(), ByteBuffer.wrap(bad))))
          .isInstanceOf(CorruptNeedleException.class);
      assertThat(usedBytes(copy, first.volume())).isEqualTo(afterFirst);
      // the right bytes, twice (an answer lost on the way): appended once
      long afterSecond = copy.copy(second.volume(), second.offset(), ByteBuffer.wrap(second.bytes())).get();
      assertThat(copy.copy(second.volume(), second.offset(), ByteBuffer.wrap(second.bytes())).get())
          .isEqualTo(afterSecond);
      assertThat(copy.copy(first.volume(), 0, ByteBuffer.wrap(first.bytes())).get()).isEqualTo(afterSecond);
      assertThat(usedBytes(copy, first.volume())).isEqualTo(afterSecond);
      // a store takes no copy of its own volumes
      assertThat(failure(writer.copy(first.volume(), afterSecond, ByteBuffer.wrap(third.bytes()))))
          .isInstanceOf(IllegalArgumentException.class);
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
