package dev.wimg.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.protocol.Fid;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyTest {

  @TempDir
  Path dir;

  List<Fid> fill(int volumes) throws Exception {
    List<Fid> fids = new ArrayList<>();
    StoreConfig c = StoreConfig.defaults(dir).withPreallocateBytes(64 << 10).withVolumeSizeLimit(1 << 20);
    try (Store store = Store.open(c)) {
      while (store.stats().volumes().size() < volumes) {
        fids.add(store.write(NewFile.of("f", "image/png", new byte[100_000])).get().fid());
      }
      store.delete(fids.getFirst()).get();
    }
    return fids;
  }

  @Test
  void healthyStoreVerifiesCleanWithCounts() throws Exception {
    List<Fid> fids = fill(3);
    VerifyReport r = Store.verify(dir);
    assertThat(r.ok()).isTrue();
    assertThat(r.volumes()).isEqualTo(3);
    assertThat(r.needlesChecked()).isEqualTo(fids.size() + 1);
    assertThat(r.liveNeedles()).isEqualTo(fids.size() - 1);
    assertThat(r.deletedNeedles()).isEqualTo(1);
  }

  @Test
  void missingIndexLogAndDamagedSuperblockAreReportedByFile() throws Exception {
    fill(2);
    Files.delete(dir.resolve("1-1.idx"));
    try (FileChannel ch = FileChannel.open(dir.resolve("1-2.dat"), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {1}), 13);
    }
    assertThat(Store.verify(dir).problems()).containsExactly(
        "1-1.idx: missing (rebuilt from the volume on open)",
        "1-2.dat: superblock checksum 0x" + Integer.toHexString(superblockCrc()) + " != computed 0x"
            + Integer.toHexString(computedCrc()));
    assertThatThrownBy(() -> Store.open(StoreConfig.defaults(dir)))
        .hasMessageStartingWith("1-2.dat: superblock checksum");
  }

  int superblockCrc() throws Exception {
    ByteBuffer b = ByteBuffer.allocate(64).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    try (FileChannel ch = FileChannel.open(dir.resolve("1-2.dat"), StandardOpenOption.READ)) {
      ch.read(b, 0);
    }
    return b.getInt(60);
  }

  int computedCrc() throws Exception {
    byte[] b = new byte[60];
    try (FileChannel ch = FileChannel.open(dir.resolve("1-2.dat"), StandardOpenOption.READ)) {
      ch.read(ByteBuffer.wrap(b), 0);
    }
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(b);
    return (int) crc.getValue();
  }

  @Test
  void indexEntryThatDisagreesWithTheVolumeIsReported() throws Exception {
    fill(2);
    ByteBuffer e = ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    try (FileChannel ch = FileChannel.open(dir.resolve("1-1.idx"), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ch.read(e, 16 + 16 * 2);
      e.putInt(0, 99);
      java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
      crc.update(e.array(), 0, 12);
      e.putInt(12, (int) crc.getValue());
      ch.write(e.rewind(), 16 + 16 * 2);
    }
    assertThat(Store.verify(dir).problems()).singleElement().asString()
        .matches("1-1\\.idx: entry 2 says key 99 needle of \\d+ bytes at offset \\d+, the volume has key 2 needle of \\d+ bytes");
  }

  @Test
  void verifyOfAMissingFolderFailsClearly() {
    assertThatThrownBy(() -> Store.verify(dir.resolve("nope")))
        .isInstanceOf(NoSuchFileException.class).hasMessageContaining("nope");
  }

  /**
   * Verify in a loop beside a store that fills 1 MiB volumes (each seal cuts the preallocated
   * tail off the file verify may be reading) and deletes half of what it writes, so that vacuums
   * start by themselves (each swap renames a new file over a volume): no run may throw, whatever it
   * reports. Bounded by the writes, not by time.
   */
  @Test
  void verifyBesideAStoreThatSealsAndVacuumsNeverThrows() throws Exception {
    StoreConfig c = StoreConfig.defaults(dir).withVolumeSizeLimit(1 << 20)
        .withPreallocateBytes(512 << 10).withFsyncPolicy(FsyncPolicy.NEVER);
    AtomicBoolean done = new AtomicBoolean();
    AtomicReference<Throwable> storeFailure = new AtomicReference<>();
    List<Throwable> verifyFailures = new ArrayList<>();
    int runs = 0;
    int changed = 0;
    try (Store store = Store.open(c)) {
      Thread load = Thread.ofPlatform().start(() -> {
        try {
          Random random = new Random(8);
          for (int round = 0; round < 60; round++) {
            List<CompletableFuture<WriteResult>> batch = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
              batch.add(store.write(NewFile.of("f", null, new byte[4000 + random.nextInt(12000)])));
            }
            List<Fid> fids = new ArrayList<>();
            for (CompletableFuture<WriteResult> f : batch) {
              fids.add(f.get().fid());
            }
            for (int i = 0; i < fids.size(); i += 2) {
              store.delete(fids.get(i)).get();
            }
          }
        } catch (Throwable t) {
          storeFailure.set(t);
        } finally {
          done.set(true);
        }
      });
      while (!done.get() && runs < 1000) {
        runs++;
        try {
          if (!Store.verify(dir).changed().isEmpty()) {
            changed++;
          }
        } catch (Throwable t) {
          verifyFailures.add(t);
        }
      }
      load.join();
    }
    assertThat(storeFailure.get()).isNull();
    assertThat(verifyFailures).as("verify runs that threw, of " + runs).isEmpty();
    assertThat(runs).isPositive();
    VerifyReport after = Store.verify(dir);
    assertThat(after.ok()).as(after.toString()).isTrue();
    assertThat(after.volumes()).as("volumes sealed meanwhile (" + changed + " runs saw a change)")
        .isGreaterThan(10);
  }
}
