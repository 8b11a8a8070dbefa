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
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads of a volume whose mapped pages cannot be provided. Without root, the fault is made by
 * cutting the {@code .dat} file short behind the store's back: the kernel then answers an access
 * to the mapped pages past the new end with {@code SIGBUS}, as it does for a disk read error.
 */
class ReadFaultTest {

  @TempDir
  Path dir;

  /** Volume 1 is cut back to its first page: the first needle's header stays, every body goes. */
  private static final long CUT_TO = 4096;

  @Test
  void readOfAVolumeCutShortThrowsVolumeReadExceptionAndMarksOnlyThatVolume() throws Exception {
    StoreConfig config = StoreConfig.defaults(dir).withPreallocateBytes(1 << 20).withVolumeSizeLimit(1 << 20);
    try (Store store = Store.open(config)) {
      List<Fid> first = new ArrayList<>();
      List<Fid> second = new ArrayList<>();
      for (int i = 0; second.size() < 3; i++) {
        Fid fid = store.write(file(100_000, i)).get().fid();
        (fid.volume() == 1 ? first : second).add(fid);
      }
      assertThat(first).hasSizeGreaterThan(2);
      // Read often enough for the JIT to compile the read path: compiled, the old checksum ran in
      // an intrinsic where SIGBUS kills the JVM instead of raising an error.
      long bytes = 0;
      for (int i = 0; i < 30_000; i++) {
        bytes += store.read(first.get(i % 3)).size();
      }
      assertThat(bytes).isEqualTo(30_000L * 100_000);

      try (FileChannel dat = FileChannel.open(dir.resolve("1-1.dat"), StandardOpenOption.WRITE)) {
        dat.truncate(CUT_TO);
      }

      for (Fid fid : first) {
        assertThat(store.isResident(fid)).as("residency of %s", fid).isFalse();
        assertThatThrownBy(() -> store.read(fid))
            .as("read of %s", fid)
            .isExactlyInstanceOf(VolumeReadException.class)
            .hasMessageStartingWith("volume 1 could not be read at offset ")
            .hasCauseExactlyInstanceOf(InternalError.class)
            .satisfies(e -> assertThat(((VolumeReadException) e).volume()).isEqualTo(1));
      }
      StoreStats.VolumeStats damaged = store.stats().volumes().get(0);
      assertThat(damaged.id()).isEqualTo(1);
      assertThat(damaged.readErrors()).isEqualTo(first.size());
      assertThat(damaged.needsCheck()).isTrue();

      // The rest of the store goes on: the other volume reads and takes writes and deletes, and a
      // delete of a needle that cannot be read fails without stopping the writer.
      StoreStats.VolumeStats healthy = store.stats().volumes().get(1);
      assertThat(healthy.needsCheck()).isFalse();
      assertThat(healthy.readErrors()).isZero();
      for (int i = 0; i < second.size(); i++) {
        assertThat(content(store.read(second.get(i)))).isEqualTo(bytes(100_000, first.size() + i));
      }
      assertThatThrownBy(() -> store.delete(first.get(1)).get())
          .isInstanceOf(ExecutionException.class)
          .hasCauseExactlyInstanceOf(VolumeReadException.class);
      WriteResult later = store.write(file(5_000, 99)).get();
      assertThat(later.fid().volume()).isEqualTo(2);
      assertThat(content(store.read(later.fid()))).isEqualTo(bytes(5_000, 99));
      assertThat(store.delete(second.get(0)).get()).isTrue();
      assertThat(store.read(second.get(0))).isNull();
    }
  }

  private static NewFile file(int size, long seed) {
    return new NewFile(null, null, 1L, List.of(ByteBuffer.wrap(bytes(size, seed))));
  }

  private static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] content(StoredFile f) {
    byte[] out = new byte[f.data().remaining()];
    f.data().duplicate().get(out);
    return out;
  }
}
