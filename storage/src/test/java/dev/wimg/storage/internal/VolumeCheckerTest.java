package dev.wimg.storage.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.storage.NewFile;
import dev.wimg.storage.Store;
import dev.wimg.storage.StoreConfig;
import dev.wimg.storage.VerifyReport;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A volume file that a running store shrinks or replaces while verify reads it: the check must
 * neither crash nor call it damage. The probe changes the file at a chosen record, as a seal (cut
 * the preallocated tail) or a vacuum swap (rename a copy over it) would.
 */
class VolumeCheckerTest {

  static final int NEEDLES = 10;

  @TempDir
  Path dir;

  Path dat;
  /** End of the last record; the file is preallocated past it. */
  long end;
  long fileSize;

  @BeforeEach
  void fill() throws Exception {
    StoreConfig c = StoreConfig.defaults(dir).withPreallocateBytes(1 << 20);
    try (Store store = Store.open(c)) {
      for (int i = 0; i < NEEDLES; i++) {
        byte[] data = new byte[20_000];
        new Random(i).nextBytes(data);
        store.write(NewFile.of("f", "image/png", data)).get();
      }
      end = store.stats().volumes().getFirst().usedBytes();
    }
    dat = dir.resolve("1-1.dat");
    fileSize = Files.size(dat);
    assertThat(fileSize).as("preallocated tail").isGreaterThan(end + (64 << 10));
    assertThat(VolumeChecker.check(dir).ok()).isTrue();
  }

  void truncate(long size) throws java.io.IOException {
    try (FileChannel ch = FileChannel.open(dat, StandardOpenOption.WRITE)) {
      ch.truncate(size);
    }
  }

  @Test
  void tailCutOffBySealDuringCheckIsReportedAsChangedNotCorrupt() throws Exception {
    VerifyReport r = VolumeChecker.check(dir, (file, offset) -> {
      if (offset == end && Files.size(file) > end) {
        truncate(end); // what GroupCommitWriter.seal does to a full volume
      }
    });
    assertThat(r.problems()).isEmpty();
    assertThat(r.changed()).containsExactly("1-1.dat: shrank from " + fileSize + " to " + end
        + " bytes while being checked; its findings are left out, check it again");
    assertThat(r.needlesChecked()).isEqualTo(NEEDLES);
    assertThat(r.ok()).isFalse();
  }

  @Test
  void fileCutInsideARecordDuringCheckIsReportedAsChanged() throws Exception {
    long[] cutAt = {-1};
    int[] records = {0};
    VerifyReport r = VolumeChecker.check(dir, (file, offset) -> {
      if (++records[0] == 5) {
        cutAt[0] = offset + 100;
        truncate(cutAt[0]);
      }
    });
    assertThat(r.problems()).isEmpty();
    assertThat(r.changed()).containsExactly("1-1.dat: shrank from " + fileSize + " to " + cutAt[0]
        + " bytes while being checked; its findings are left out, check it again");
  }

  @Test
  void volumeReplacedDuringCheckIsReportedAsChanged() throws Exception {
    Path copy = dir.resolve("copy");
    Files.copy(dat, copy);
    int[] records = {0};
    VerifyReport r = VolumeChecker.check(dir, (file, offset) -> {
      if (++records[0] == 5) {
        Files.move(copy, dat, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      }
    });
    assertThat(r.problems()).isEmpty();
    assertThat(r.changed()).containsExactly("1-1.dat: replaced by another file while being checked; "
        + "its findings are left out, check it again");
  }

  @Test
  void volumeThatGrowsDuringCheckIsCheckedToTheEndItHadWhenOpened() throws Exception {
    VerifyReport r = VolumeChecker.check(dir, (file, offset) -> {
      if (offset == end && Files.size(file) == fileSize) {
        try (FileChannel ch = FileChannel.open(dat, StandardOpenOption.WRITE)) {
          FileSpace.extend(ch, dat, fileSize + (1 << 20));
        }
      }
    });
    assertThat(r.ok()).as(r.toString()).isTrue();
    assertThat(r.needlesChecked()).isEqualTo(NEEDLES);
  }
}
