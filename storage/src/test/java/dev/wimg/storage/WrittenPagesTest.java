package dev.wimg.storage;

import static dev.wimg.storage.StoreTest.bytes;
import static dev.wimg.storage.StoreTest.content;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.wimg.protocol.Fid;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
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
  void underFsyncIntervalThePagesAreReleasedAfterTheBackgroundFsync() throws Exception {
    StoreConfig c = config().withFsyncPolicy(FsyncPolicy.INTERVAL).withFsyncInterval(Duration.ofMillis(50));
    try (Store store = Store.open(c)) {
      Fid first = store.write(NewFile.of("one", null, bytes(FILE_BYTES, 3))).get().fid();
      await().atMost(Duration.ofSeconds(10)).until(() -> !store.isResident(first));
      Fid second = store.write(NewFile.of("two", null, bytes(FILE_BYTES, 4))).get().fid();
      await().atMost(Duration.ofSeconds(10)).until(() -> !store.isResident(second));
      assertThat(content(store.read(first))).isEqualTo(bytes(FILE_BYTES, 3));
      assertThat(content(store.read(second))).isEqualTo(bytes(FILE_BYTES, 4));
    }
  }
}
