package dev.wimg.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.protocol.Fid;
import dev.wimg.storage.internal.LocalStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreTest {

  @TempDir
  Path dir;

  StoreConfig config() {
    return StoreConfig.defaults(dir).withPreallocateBytes(1 << 20);
  }

  static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  static byte[] content(StoredFile f) {
    byte[] out = new byte[f.data().remaining()];
    f.data().duplicate().get(out);
    return out;
  }

  @Test
  void aWriteThatNamesAnExecutorIsCompletedOnItAndFallsBackWhenItRefuses() throws Exception {
    ExecutorService completer = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-completer"));
    try (Store store = Store.open(config())) {
      // Hold the completer until the callback is attached: a callback attached to a future that
      // is already complete runs on the attaching thread instead.
      java.util.concurrent.CountDownLatch attached = new java.util.concurrent.CountDownLatch(1);
      completer.execute(() -> {
        try {
          attached.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      CompletableFuture<String> completedOn = new CompletableFuture<>();
      CompletableFuture<WriteResult> write =
          store.write(new NewFile(null, null, 1L, List.of(ByteBuffer.wrap(bytes(100, 3)))), completer)
              .whenComplete((result, failure) -> completedOn.complete(Thread.currentThread().getName()));
      attached.countDown();
      WriteResult r = write.get();
      assertThat(completedOn.get()).isEqualTo("test-completer");
      assertThat(content(store.read(r.fid()))).isEqualTo(bytes(100, 3));

      completer.shutdown();
      CompletableFuture<String> fallback = new CompletableFuture<>();
      WriteResult again = store.write(new NewFile(null, null, 1L, List.of(ByteBuffer.wrap(bytes(50, 4)))), completer)
          .whenComplete((result, failure) -> fallback.complete(Thread.currentThread().getName()))
          .get();
      // completed by the store's acknowledgement thread, or already complete when the callback
      // was attached (then it ran on this thread); never left waiting on the refusing executor
      assertThat(fallback.get()).isIn("wimg-store-ack", Thread.currentThread().getName());
      assertThat(content(store.read(again.fid()))).isEqualTo(bytes(50, 4));
    } finally {
      completer.shutdownNow();
    }
  }

  @Test
  void aDeleteWithAWrongCookieDoesNotStopTheRealDeleteInTheSameBatch() throws Exception {
    try (Store store = Store.open(config())) {
      for (int round = 0; round < 20; round++) {
        WriteResult victim = store.write(NewFile.of(null, null, bytes(1000, round))).get();
        Fid wrong = new Fid(victim.fid().group(), victim.fid().volume(), victim.fid().key(),
            victim.fid().cookie() ^ 1);
        // A 16 MiB write keeps the writer busy (copy and fsync), so both deletes queue behind it
        // and form one batch.
        CompletableFuture<WriteResult> busy = store.write(NewFile.of(null, null, new byte[16 << 20]));
        CompletableFuture<Boolean> guess = store.delete(wrong);
        CompletableFuture<Boolean> real = store.delete(victim.fid());
        busy.get();
        assertThat(guess.get()).as("round %d: wrong cookie", round).isFalse();
        assertThat(real.get()).as("round %d: real delete", round).isTrue();
        assertThat(store.read(victim.fid())).isNull();
      }
    }
  }

  @Test
  void writtenFileReadsBackByteIdenticalWithNameMimeAndTime() throws Exception {
    try (Store store = Store.open(config())) {
      byte[] data = bytes(10_000, 1);
      NewFile file = new NewFile("cat.jpg", "image/jpeg", 1_700_000_000_123L, List.of(ByteBuffer.wrap(data)));
      WriteResult r = store.write(file).get();
      assertThat(r.size()).isEqualTo(10_000);
      assertThat(r.fid().group()).isEqualTo(1);
      assertThat(r.fid().volume()).isEqualTo(1);
      assertThat(r.fid().key()).isZero();
      StoredFile f = store.read(r.fid());
      assertThat(f).isNotNull();
      assertThat(content(f)).isEqualTo(data);
      assertThat(f.name()).isEqualTo("cat.jpg");
      assertThat(f.mime()).isEqualTo("image/jpeg");
      assertThat(f.lastModified()).isEqualTo(1_700_000_000_123L);
      assertThat(f.checksum()).isEqualTo(r.checksum());
      assertThat(f.data().isReadOnly()).isTrue();
    }
  }

  @Test
  void emptyFileWithoutNameOrMimeRoundTrips() throws Exception {
    try (Store store = Store.open(config())) {
      WriteResult r = store.write(new NewFile(null, null, 5, List.of())).get();
      StoredFile f = store.read(r.fid());
      assertThat(f.size()).isZero();
      assertThat(f.name()).isNull();
      assertThat(f.mime()).isNull();
      WriteResult e = store.write(new NewFile("", "", 5, List.of(ByteBuffer.allocate(0)))).get();
      StoredFile g = store.read(e.fid());
      assertThat(g.name()).isEmpty();
      assertThat(g.mime()).isEmpty();
      assertThat(e.fid().key()).isEqualTo(r.fid().key() + 1);
    }
  }

  @Test
  void multiBufferAndMultiMegabyteDataIsConcatenatedInOrder() throws Exception {
    byte[] a = bytes(100, 2);
    byte[] b = bytes(5 << 20, 3);
    ByteBuffer direct = ByteBuffer.allocateDirect(300_000).put(bytes(300_000, 4)).flip();
    byte[] c = new byte[300_000];
    direct.duplicate().get(c);
    try (Store store = Store.open(config())) {
      WriteResult r = store.write(new NewFile("x", null, 1,
          List.of(ByteBuffer.wrap(a), ByteBuffer.wrap(b), direct))).get();
      byte[] got = content(store.read(r.fid()));
      ByteBuffer expected = ByteBuffer.allocate(a.length + b.length + c.length).put(a).put(b).put(c);
      assertThat(got).isEqualTo(expected.array());
      assertThat(direct.position()).isZero();
    }
  }

  @Test
  void wrongCookieWrongGroupOrUnknownVolumeReadsAsNotFound() throws Exception {
    try (Store store = Store.open(config())) {
      Fid fid = store.write(NewFile.of("a", null, bytes(10, 5))).get().fid();
      assertThat(store.read(new Fid(fid.group(), fid.volume(), fid.key(), fid.cookie() ^ 1))).isNull();
      assertThat(store.read(new Fid(2, fid.volume(), fid.key(), fid.cookie()))).isNull();
      assertThat(store.read(new Fid(fid.group(), 9, fid.key(), fid.cookie()))).isNull();
      assertThat(store.read(new Fid(fid.group(), fid.volume(), fid.key() + 1, fid.cookie()))).isNull();
      assertThat(store.delete(new Fid(fid.group(), fid.volume(), fid.key(), fid.cookie() ^ 1)).get()).isFalse();
      assertThat(store.read(fid)).isNotNull();
    }
  }

  @Test
  void deletedFileIsGoneAndSecondDeleteAnswersFalse() throws Exception {
    try (Store store = Store.open(config())) {
      Fid keep = store.write(NewFile.of("k", null, bytes(100, 6))).get().fid();
      Fid gone = store.write(NewFile.of("g", null, bytes(100, 7))).get().fid();
      assertThat(store.delete(gone).get()).isTrue();
      assertThat(store.read(gone)).isNull();
      assertThat(store.delete(gone).get()).isFalse();
      assertThat(store.read(keep)).isNotNull();
      StoreStats.VolumeStats v = store.stats().volumes().getFirst();
      assertThat(v.liveNeedles()).isEqualTo(1);
      assertThat(v.deletedNeedles()).isEqualTo(1);
      assertThat(v.garbageBytes()).isGreaterThan(100);
    }
  }

  @Test
  void reopenedStoreServesEverythingAndKeepsDeletes() throws Exception {
    List<WriteResult> written = new ArrayList<>();
    Fid deleted;
    try (Store store = Store.open(config())) {
      for (int i = 0; i < 50; i++) {
        written.add(store.write(NewFile.of("f" + i, "text/plain", bytes(i * 37, i))).get());
      }
      deleted = written.get(7).fid();
      assertThat(store.delete(deleted).get()).isTrue();
    }
    try (Store store = Store.open(config())) {
      for (int i = 0; i < 50; i++) {
        StoredFile f = store.read(written.get(i).fid());
        if (i == 7) {
          assertThat(f).isNull();
          continue;
        }
        assertThat(content(f)).isEqualTo(bytes(i * 37, i));
        assertThat(f.name()).isEqualTo("f" + i);
        assertThat(f.checksum()).isEqualTo(written.get(i).checksum());
      }
      assertThat(store.stats().liveNeedles()).isEqualTo(49);
      WriteResult next = store.write(NewFile.of("n", null, bytes(10, 99))).get();
      assertThat(next.fid().key()).isEqualTo(50);
      assertThat(store.read(next.fid())).isNotNull();
    }
  }

  @Test
  void fullVolumeIsSealedAndWritesRollOverToTheNext() throws Exception {
    StoreConfig c = config().withVolumeSizeLimit(1 << 20);
    List<Fid> fids = new ArrayList<>();
    try (Store store = Store.open(c)) {
      for (int i = 0; i < 10; i++) {
        fids.add(store.write(NewFile.of(null, null, bytes(300_000, i))).get().fid());
      }
      StoreStats stats = store.stats();
      assertThat(stats.volumes()).hasSizeGreaterThanOrEqualTo(3);
      assertThat(stats.volumes().getFirst().readOnly()).isTrue();
      assertThat(stats.volumes().getLast().readOnly()).isFalse();
      for (StoreStats.VolumeStats v : stats.volumes()) {
        assertThat(v.usedBytes()).isLessThanOrEqualTo(1 << 20);
      }
      assertThat(fids.stream().map(Fid::volume).distinct().count()).isEqualTo(stats.volumes().size());
    }
    try (Store store = Store.open(c)) {
      for (int i = 0; i < 10; i++) {
        assertThat(content(store.read(fids.get(i)))).isEqualTo(bytes(300_000, i));
      }
      assertThat(store.stats().volumes().getFirst().readOnly()).isTrue();
    }
  }

  @Test
  void concurrentWritersShareFsyncsAndAllFilesReadBack() throws Exception {
    int threads = 8;
    int perThread = 200;
    try (Store store = Store.open(config())) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      List<Future<List<WriteResult>>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int tt = t;
        results.add(pool.submit(() -> {
          List<CompletableFuture<WriteResult>> mine = new ArrayList<>();
          for (int i = 0; i < perThread; i++) {
            mine.add(store.write(NewFile.of("t" + tt + "-" + i, null, bytes(500, tt * 10_000L + i))));
          }
          List<WriteResult> out = new ArrayList<>();
          for (CompletableFuture<WriteResult> f : mine) {
            out.add(f.get());
          }
          return out;
        }));
      }
      for (int t = 0; t < threads; t++) {
        List<WriteResult> mine = results.get(t).get();
        for (int i = 0; i < perThread; i++) {
          StoredFile f = store.read(mine.get(i).fid());
          assertThat(f.name()).isEqualTo("t" + t + "-" + i);
          assertThat(content(f)).isEqualTo(bytes(500, t * 10_000L + i));
        }
      }
      pool.shutdown();
      long fsyncs = ((LocalStore) store).fsyncs();
      assertThat(fsyncs).isPositive().isLessThan(threads * perThread);
      assertThat(store.stats().liveNeedles()).isEqualTo(threads * perThread);
    }
  }

  @Test
  void underFsyncIntervalWritesAreForcedOncePerIntervalNotOncePerBatch() throws Exception {
    StoreConfig c = config().withFsyncPolicy(FsyncPolicy.INTERVAL).withFsyncInterval(Duration.ofMinutes(5));
    try (Store store = Store.open(c)) {
      for (int i = 0; i < 20; i++) {
        store.write(NewFile.of("i" + i, null, bytes(100, i))).get(); // one batch each
      }
      assertThat(((LocalStore) store).fsyncs()).isZero();
    }
  }

  @Test
  void closedStoreRejectsWritesWithAClearError() throws Exception {
    Store store = Store.open(config());
    Fid fid = store.write(NewFile.of("a", null, bytes(10, 1))).get().fid();
    store.close();
    store.close();
    assertThatThrownBy(() -> store.write(NewFile.of("b", null, bytes(10, 2))).get())
        .isInstanceOf(ExecutionException.class).cause()
        .isInstanceOf(IOException.class).hasMessage("store is closed");
    assertThatThrownBy(() -> store.delete(fid).get()).cause().hasMessage("store is closed");
    assertThatThrownBy(() -> store.read(fid)).isInstanceOf(IOException.class).hasMessage("store is closed");
  }

  @Test
  void secondStoreOnTheSameFolderIsRefusedUntilTheFirstCloses() throws Exception {
    Store first = Store.open(config());
    assertThatThrownBy(() -> Store.open(config()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("is in use by another WIMG store");
    first.close();
    try (Store second = Store.open(config())) {
      assertThat(second.stats().volumes()).isNotNull();
    }
  }

  @Test
  void intervalAndNeverPoliciesAcknowledgeAndPersistOnClose() throws Exception {
    for (FsyncPolicy p : new FsyncPolicy[] {FsyncPolicy.INTERVAL, FsyncPolicy.NEVER}) {
      Path sub = dir.resolve(p.name());
      StoreConfig c = StoreConfig.defaults(sub).withPreallocateBytes(0).withFsyncPolicy(p)
          .withFsyncInterval(java.time.Duration.ofMillis(20));
      Fid fid;
      try (Store store = Store.open(c)) {
        fid = store.write(NewFile.of("p", null, bytes(1000, 8))).get().fid();
        assertThat(content(store.read(fid))).isEqualTo(bytes(1000, 8));
      }
      try (Store store = Store.open(c)) {
        assertThat(content(store.read(fid))).isEqualTo(bytes(1000, 8));
      }
    }
  }

  @Test
  void residencyIsAnsweredForKnownAndUnknownFids() throws Exception {
    try (Store store = Store.open(config())) {
      Fid fid = store.write(NewFile.of("a", null, bytes(10_000, 1))).get().fid();
      store.read(fid);
      assertThat(store.isResident(fid)).isTrue();
      assertThat(store.isResident(new Fid(1, 77, 0, 0))).isTrue();
    }
  }

  @Test
  void residencyIsAnsweredForRecordsLongerThanTheCheckWindowAndAtTheEndOfTheMapping() throws Exception {
    // No preallocation: the mapping ends where the last record ends, so the first check's window
    // is clipped; the 300 KB record needs the second check past the window.
    StoreConfig c = StoreConfig.defaults(dir).withPreallocateBytes(0);
    try (Store store = Store.open(c)) {
      Fid big = store.write(NewFile.of("big", null, bytes(300_000, 2))).get().fid();
      Fid small = store.write(NewFile.of("small", null, bytes(100, 3))).get().fid();
      assertThat(content(store.read(big))).isEqualTo(bytes(300_000, 2));
      assertThat(content(store.read(small))).isEqualTo(bytes(100, 3));
      assertThat(store.isResident(big)).isTrue();
      assertThat(store.isResident(small)).isTrue();
    }
  }

  @Test
  void groupCommitSharesFsyncsAndEveryAcknowledgedWriteAndDeleteSurvivesReopen() throws Exception {
    int threads = 16;
    int perThread = 60;
    StoreConfig c = config().withFsyncPolicy(FsyncPolicy.ALWAYS);
    List<List<WriteResult>> written = new ArrayList<>();
    long fsyncs;
    try (Store store = Store.open(c)) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      List<Future<List<WriteResult>>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int tt = t;
        results.add(pool.submit(() -> {
          // Each writer waits for its own acknowledgement (as an HTTP client does) and deletes
          // every fifth file at once, so deletes interleave with batches in flight.
          List<WriteResult> out = new ArrayList<>();
          for (int i = 0; i < perThread; i++) {
            WriteResult r = store.write(NewFile.of("t" + tt + "-" + i, null, bytes(3000, tt * 10_000L + i))).get();
            assertThat(content(store.read(r.fid()))).isEqualTo(bytes(3000, tt * 10_000L + i));
            if (i % 5 == 0) {
              assertThat(store.delete(r.fid()).get()).isTrue();
              assertThat(store.read(r.fid())).isNull();
            }
            out.add(r);
          }
          return out;
        }));
      }
      for (Future<List<WriteResult>> f : results) {
        written.add(f.get());
      }
      pool.shutdown();
      fsyncs = ((LocalStore) store).fsyncs();
    }
    int writes = threads * perThread;
    int deletes = threads * (perThread / 5);
    assertThat(fsyncs).isPositive().isLessThan(writes + deletes);
    try (Store store = Store.open(c)) {
      for (int t = 0; t < threads; t++) {
        for (int i = 0; i < perThread; i++) {
          StoredFile f = store.read(written.get(t).get(i).fid());
          if (i % 5 == 0) {
            assertThat(f).isNull();
          } else {
            assertThat(f.name()).isEqualTo("t" + t + "-" + i);
            assertThat(content(f)).isEqualTo(bytes(3000, t * 10_000L + i));
          }
        }
      }
      assertThat(store.stats().liveNeedles()).isEqualTo(writes - deletes);
    }
  }

  @Test
  void aReadFileStaysValidAndReadOnlyWhileItsVolumeGrowsAndIsRemapped() throws Exception {
    // 64 KiB preallocation: the writes below extend the file, and so remap it, several times.
    StoreConfig c = StoreConfig.defaults(dir).withPreallocateBytes(64 << 10);
    try (Store store = Store.open(c)) {
      Fid first = store.write(NewFile.of("first", "image/png", bytes(5000, 1))).get().fid();
      StoredFile held = store.read(first);
      List<Fid> later = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        later.add(store.write(NewFile.of("n" + i, null, bytes(20_000, 100 + i))).get().fid());
      }
      assertThat(content(held)).isEqualTo(bytes(5000, 1));
      assertThat(held.data().isReadOnly()).isTrue();
      assertThat(held.mime()).isEqualTo("image/png");
      for (int i = 0; i < 40; i++) {
        StoredFile f = store.read(later.get(i));
        assertThat(f.data().isReadOnly()).isTrue();
        assertThat(content(f)).isEqualTo(bytes(20_000, 100 + i));
      }
    }
  }
}
