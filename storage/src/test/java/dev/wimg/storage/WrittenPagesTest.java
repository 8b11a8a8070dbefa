package dev.wimg.storage;

import static dev.wimg.storage.StoreTest.bytes;
import static dev.wimg.storage.StoreTest.content;
import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.protocol.Fid;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Durable appends leave the page cache ({@link StoreConfig#releaseWrittenPages()}), and a needle
 * whose pages were released still reads back whole, from the disk.
 *
 * <p>The data folder lies under the module's {@code target/}, on the disk the build runs from:
 * tmpfs, where {@code java.io.tmpdir} may be, keeps every page in memory by definition.
 */
class WrittenPagesTest {

  /** Large enough that the pages it spans are most of the record, not the shared last one. */
  private static final int FILE_BYTES = 1 << 20;

  Path dir;

  @BeforeEach
  void createDataDir() throws IOException {
    Path target = Files.createDirectories(Path.of("target"));
    dir = Files.createTempDirectory(target, "written-pages-");
  }

  @AfterEach
  void deleteDataDir() throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private StoreConfig config() {
    return StoreConfig.defaults(dir).withPreallocateBytes(4 << 20);
  }

  @Test
  void anAcknowledgedWriteUnderFsyncAlwaysIsNoLongerCachedAndStillReadsBack() throws Exception {
    try (Store store = Store.open(config())) {
      Fid fid = store.write(NewFile.of("big", null, bytes(FILE_BYTES, 1))).get().fid();
      assertThat(store.isResident(fid)).isFalse();
      assertThat(content(store.read(fid))).isEqualTo(bytes(FILE_BYTES, 1));
      assertThat(store.isResident(fid)).isTrue();
    }
  }

  @Test
  void withTheReleaseOffTheWrittenPagesStayCached() throws Exception {
    try (Store store = Store.open(config().withReleaseWrittenPages(false))) {
      Fid fid = store.write(NewFile.of("big", null, bytes(FILE_BYTES, 2))).get().fid();
      assertThat(store.isResident(fid)).isTrue();
      assertThat(content(store.read(fid))).isEqualTo(bytes(FILE_BYTES, 2));
    }
  }

  @Test
  void underFsyncIntervalThePagesStayCachedUntilTheIntervalFsyncAndAreReleasedByIt() throws Exception {
    // The interval is timed by a ticker this test moves: the writer forces at the end of the first
    // batch it handles once the ticker has passed the interval, never by the wall clock.
    AtomicLong ticker = new AtomicLong();
    Duration interval = Duration.ofMinutes(5);
    StoreConfig c = config().withFsyncPolicy(FsyncPolicy.INTERVAL).withFsyncInterval(interval)
        .withTicker(ticker::get);
    try (Store store = Store.open(c)) {
      Fid first = store.write(NewFile.of("one", null, bytes(FILE_BYTES, 3))).get().fid();
      assertThat(store.isResident(first)).as("acknowledged, not yet forced").isTrue();

      ticker.addAndGet(interval.toNanos());
      Fid second = store.write(NewFile.of("two", null, bytes(FILE_BYTES, 4))).get().fid();
      awaitTheWritersNextBatch(store);
      assertThat(store.isResident(first)).as("forced by the interval fsync after the next batch").isFalse();
      // Not asserted for the second write: the writer may see the ticker pass while it waits for
      // work and force before the second write arrives (then the second waits for the next interval).

      Fid third = store.write(NewFile.of("three", null, bytes(FILE_BYTES, 5))).get().fid();
      awaitTheWritersNextBatch(store);
      assertThat(store.isResident(third)).as("the interval has not passed again").isTrue();

      assertThat(content(store.read(first))).isEqualTo(bytes(FILE_BYTES, 3));
      assertThat(content(store.read(second))).isEqualTo(bytes(FILE_BYTES, 4));
      assertThat(content(store.read(third))).isEqualTo(bytes(FILE_BYTES, 5));
    }
  }

  /**
   * Returns once the writer has finished the loop turn of the batch acknowledged last, interval
   * fsync included: under the interval policy a write is acknowledged inside its batch, before
   * that fsync, and one writer thread takes batches in turn, so a later write is acknowledged
   * only after it.
   */
  private static void awaitTheWritersNextBatch(Store store) throws Exception {
    store.write(NewFile.of("marker", null, bytes(10, 0))).get();
  }
}
