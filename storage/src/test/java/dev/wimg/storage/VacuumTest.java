package dev.wimg.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.wimg.protocol.Fid;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VacuumTest {

  @TempDir
  Path dir;

  StoreConfig config() {
    return StoreConfig.defaults(dir).withPreallocateBytes(256 << 10);
  }

  static byte[] bytes(int i) {
    byte[] b = new byte[1000 + (i * 97) % 4000];
    new Random(i).nextBytes(b);
    return b;
  }

  static byte[] content(StoredFile f) {
    byte[] out = new byte[f.data().remaining()];
    f.data().duplicate().get(out);
    return out;
  }

  List<WriteResult> writeMany(Store store, int n) throws Exception {
    List<CompletableFuture<WriteResult>> fs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      fs.add(store.write(NewFile.of("v" + i, "application/octet-stream", bytes(i))));
    }
    List<WriteResult> out = new ArrayList<>();
    for (CompletableFuture<WriteResult> f : fs) {
      out.add(f.get());
    }
    return out;
  }

  @Test
  void vacuumAfterDeletingHalfFreesSpaceAndKeepsFidsAndContent() throws Exception {
    List<WriteResult> written;
    try (Store store = Store.open(config())) {
      written = writeMany(store, 200);
      for (int i = 0; i < 200; i += 2) {
        assertThat(store.delete(written.get(i).fid()).get()).isTrue();
      }
      long usedBefore = store.stats().volumes().getFirst().usedBytes();
      long freed = store.vacuum(1).get();
      assertThat(freed).isGreaterThan(usedBefore / 3);
      StoreStats.VolumeStats v = store.stats().volumes().getFirst();
      assertThat(v.liveNeedles()).isEqualTo(100);
      assertThat(v.deletedNeedles()).isZero();
      assertThat(v.garbageBytes()).isZero();
      assertThat(v.readOnly()).isTrue();
      assertThat(Files.size(dir.resolve("1-1.dat"))).isEqualTo(v.usedBytes());
      checkHalf(store, written);
      WriteResult next = store.write(NewFile.of("next", null, bytes(1))).get();
      assertThat(next.fid().volume()).isEqualTo(2);
      assertThat(store.delete(written.get(1).fid()).get()).isTrue();
      assertThat(store.read(written.get(1).fid())).isNull();
    }
    try (Store store = Store.open(config())) {
      assertThat(store.read(written.get(1).fid())).isNull();
      for (int i = 3; i < 200; i += 2) {
        assertThat(content(store.read(written.get(i).fid()))).isEqualTo(bytes(i));
      }
      assertThat(store.stats().volumes().getFirst().liveNeedles()).isEqualTo(99);
    }
    assertThat(Store.verify(dir).problems()).isEmpty();
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".compact"));
    }
  }

  static void checkHalf(Store store, List<WriteResult> written) throws Exception {
    for (int i = 0; i < written.size(); i++) {
      StoredFile f = store.read(written.get(i).fid());
      if (i % 2 == 0) {
        assertThat(f).isNull();
      } else {
        assertThat(content(f)).isEqualTo(bytes(i));
        assertThat(f.checksum()).isEqualTo(written.get(i).checksum());
        assertThat(f.name()).isEqualTo("v" + i);
      }
    }
  }

  @Test
  void readsAndDeletesConcurrentWithVacuumSucceedAndDeletesAreNotLost() throws Exception {
    try (Store store = Store.open(config())) {
      List<WriteResult> written = writeMany(store, 2000);
      for (int i = 0; i < 1000; i += 2) {
        store.delete(written.get(i).fid()).get();
      }
      AtomicBoolean stop = new AtomicBoolean();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      AtomicLong reads = new AtomicLong();
      Thread reader = Thread.ofPlatform().start(() -> {
        try {
          while (!stop.get()) {
            for (int i = 1001; i < 2000; i += 2) {
              StoredFile f = store.read(written.get(i).fid());
              if (f == null || f.checksum() != written.get(i).checksum()) {
                throw new AssertionError("needle " + i + " read " + f);
              }
              reads.incrementAndGet();
            }
          }
        } catch (Throwable t) {
          failure.set(t);
        }
      });
      CompletableFuture<Long> vacuum = store.vacuum(1);
      List<CompletableFuture<Boolean>> deletes = new ArrayList<>();
      for (int i = 1000; i < 2000; i += 2) {
        deletes.add(store.delete(written.get(i).fid()));
      }
      assertThat(vacuum.get()).isPositive();
      for (CompletableFuture<Boolean> d : deletes) {
        assertThat(d.get()).isTrue();
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> reads.get() > 2000 || failure.get() != null);
      stop.set(true);
      reader.join();
      assertThat(failure.get()).isNull();
      checkHalf(store, written);
      assertThat(store.stats().liveNeedles()).isEqualTo(1000);
    }
    try (Store store = Store.open(config())) {
      assertThat(store.stats().liveNeedles()).isEqualTo(1000);
    }
    assertThat(Store.verify(dir).problems()).isEmpty();
  }

  @Test
  void sealedVolumeIsVacuumedAutomaticallyWhenGarbagePassesTheThreshold() throws Exception {
    StoreConfig c = config().withVolumeSizeLimit(1 << 20).withGarbageThreshold(0.5);
    try (Store store = Store.open(c)) {
      List<WriteResult> written = writeMany(store, 600);
      List<WriteResult> first = written.stream().filter(w -> w.fid().volume() == 1).toList();
      assertThat(store.stats().volumes().getFirst().readOnly()).isTrue();
      long usedBefore = store.stats().volumes().getFirst().usedBytes();
      for (int i = 0; i < first.size() * 6 / 10; i++) {
        store.delete(first.get(i).fid()).get();
      }
      await().atMost(Duration.ofSeconds(30))
          .until(() -> store.stats().volumes().getFirst().usedBytes() < usedBefore * 6 / 10);
      assertThat(Files.size(dir.resolve("1-1.dat"))).isLessThan(usedBefore * 6 / 10);
      for (int i = first.size() * 6 / 10; i < first.size(); i++) {
        assertThat(store.read(first.get(i).fid())).isNotNull();
      }
    }
  }

  @Test
  void aVolumeOverTheThresholdWhenTheStoreOpensIsVacuumed() throws Exception {
    StoreConfig lax = config().withVolumeSizeLimit(1 << 20).withGarbageThreshold(0.99);
    List<WriteResult> first;
    long usedBefore;
    try (Store store = Store.open(lax)) {
      List<WriteResult> written = writeMany(store, 600);
      first = written.stream().filter(w -> w.fid().volume() == 1).toList();
      usedBefore = store.stats().volumes().getFirst().usedBytes();
      for (int i = 0; i < first.size() * 6 / 10; i++) {
        store.delete(first.get(i).fid()).get();
      }
      assertThat(store.stats().volumes().getFirst().usedBytes()).as("no vacuum under 0.99 (tombstones added)")
          .isGreaterThanOrEqualTo(usedBefore);
    }
    try (Store store = Store.open(lax.withGarbageThreshold(0.5))) {
      await().atMost(Duration.ofSeconds(30))
          .until(() -> store.stats().volumes().getFirst().usedBytes() < usedBefore * 6 / 10);
      for (int i = first.size() * 6 / 10; i < first.size(); i++) {
        assertThat(store.read(first.get(i).fid())).isNotNull();
      }
    }
  }

  @Test
  void fileReadBeforeAVacuumStaysReadableAfterItAndAfterGc() throws Exception {
    try (Store store = Store.open(config())) {
      List<WriteResult> written = writeMany(store, 50);
      StoredFile held = store.read(written.get(49).fid());
      for (int i = 0; i < 49; i++) {
        store.delete(written.get(i).fid()).get();
      }
      assertThat(store.vacuum(1).get()).isPositive();
      for (int i = 0; i < 5; i++) {
        System.gc();
      }
      assertThat(content(held)).isEqualTo(bytes(49));
      assertThat(content(store.read(written.get(49).fid()))).isEqualTo(bytes(49));
    }
  }

  @Test
  void leftoverCompactFilesOfAnInterruptedVacuumAreDeletedOnOpen() throws Exception {
    Fid fid;
    try (Store store = Store.open(config())) {
      fid = store.write(NewFile.of("a", null, bytes(1))).get().fid();
    }
    Files.write(dir.resolve("1-1.dat.compact"), new byte[100]);
    Files.write(dir.resolve("1-1.idx.compact"), new byte[10]);
    try (Store store = Store.open(config())) {
      assertThat(content(store.read(fid))).isEqualTo(bytes(1));
    }
    assertThat(dir.resolve("1-1.dat.compact")).doesNotExist();
    assertThat(dir.resolve("1-1.idx.compact")).doesNotExist();
  }

  @Test
  void crashBetweenTheTwoRenamesRebuildsTheIndexOfTheNewVolume() throws Exception {
    List<WriteResult> written;
    Path oldIdx = dir.resolveSibling(dir.getFileName() + "-old.idx");
    try (Store store = Store.open(config())) {
      written = writeMany(store, 100);
      for (int i = 0; i < 100; i += 2) {
        store.delete(written.get(i).fid()).get();
      }
    }
    Files.copy(dir.resolve("1-1.idx"), oldIdx);
    try (Store store = Store.open(config())) {
      assertThat(store.vacuum(1).get()).isPositive();
    }
    Files.copy(oldIdx, dir.resolve("1-1.idx"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    assertThat(Store.verify(dir).problems()).singleElement().asString()
        .isEqualTo("1-1.idx: index revision 0 does not match volume revision 1 (rebuilt from the volume on open)");
    try (Store store = Store.open(config())) {
      checkHalf(store, written);
    }
    assertThat(Store.verify(dir).problems()).isEmpty();
  }
}
