package dev.wimg.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.protocol.Fid;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Volume ids carry the writing member's slot: {@code (slot << 16) | n} (docs/FORMAT.md, "Volume
 * ids"). A folder made before slots (slot 0, volumes 1, 2, ...) opens and continues unchanged.
 */
class VolumeSlotTest {

  /** Two of these do not fit one 1 MiB volume, so each write after the first opens a volume. */
  private static final int BIG = 600 << 10;

  @TempDir
  Path dir;

  private StoreConfig config(int slot) {
    return StoreConfig.defaults(dir).withPreallocateBytes(1 << 20).withVolumeSizeLimit(1 << 20)
        .withSlot(slot);
  }

  private static byte[] bytes(long seed) {
    byte[] b = new byte[BIG];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static Fid write(Store store, long seed) throws Exception {
    return store.write(NewFile.of("f" + seed, null, bytes(seed))).get().fid();
  }

  private static byte[] read(Store store, Fid fid) throws Exception {
    StoredFile f = store.read(fid);
    byte[] out = new byte[f.data().remaining()];
    f.data().duplicate().get(out);
    return out;
  }

  @Test
  void aMemberAtSlotThreeCreatesVolumesFrom196609() throws Exception {
    List<Integer> volumes = new ArrayList<>();
    try (Store store = Store.open(config(3))) {
      for (int i = 0; i < 3; i++) {
        volumes.add(write(store, i).volume());
      }
    }
    assertThat(volumes).containsExactly(196_609, 196_610, 196_611);
    assertThat(dir.resolve("1-196609.dat")).exists();
    // reopened, it continues after its newest volume
    try (Store store = Store.open(config(3))) {
      assertThat(write(store, 9).volume()).isEqualTo(196_612);
    }
  }

  @Test
  void aFolderMadeBeforeSlotsReopensAtSlotZeroAndContinues() throws Exception {
    List<Fid> fids = new ArrayList<>();
    try (Store store = Store.open(config(0))) {
      fids.add(write(store, 1));
      fids.add(write(store, 2));
    }
    assertThat(fids).extracting(Fid::volume).containsExactly(1, 2);
    try (Store store = Store.open(config(0))) {
      Fid next = write(store, 3);
      assertThat(next.volume()).isEqualTo(3);
      assertThat(read(store, fids.get(0))).isEqualTo(bytes(1));
      assertThat(read(store, fids.get(1))).isEqualTo(bytes(2));
    }
  }

  @Test
  void volumesOfOtherSlotsAreReadButNeverAppendedTo() throws Exception {
    Fid old;
    try (Store store = Store.open(config(0).withVolumeSizeLimit(8 << 20))) {
      old = store.write(NewFile.of("small", null, new byte[] {1, 2, 3})).get().fid();
    }
    long sizeBefore = Files.size(dir.resolve("1-1.dat"));
    try (Store store = Store.open(config(5).withVolumeSizeLimit(8 << 20))) {
      // volume 1 has room, but it is slot 0's: slot 5 starts its own
      Fid fid = store.write(NewFile.of("next", null, new byte[] {4})).get().fid();
      assertThat(fid.volume()).isEqualTo((5 << 16) | 1);
      assertThat(read(store, old)).containsExactly(1, 2, 3);
    }
    // sealing cut volume 1's preallocated tail; nothing was appended to it
    assertThat(Files.size(dir.resolve("1-1.dat"))).isLessThanOrEqualTo(sizeBefore);
    try (Store store = Store.open(config(0).withVolumeSizeLimit(8 << 20))) {
      // back at slot 0, its own volume 1, which has room, takes needles again
      assertThat(store.write(NewFile.of("again", null, new byte[] {5})).get().fid().volume())
          .isEqualTo(1);
    }
  }

  @Test
  void aSlotOutsideZeroTo255IsRefused() {
    assertThatThrownBy(() -> config(256)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("slot must be 0..255, got 256");
    assertThatThrownBy(() -> config(-1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("slot must be 0..255, got -1");
    assertThat(config(255).volumeId(StoreConfig.VOLUMES_PER_SLOT)).isEqualTo(Fid.MAX_VOLUME);
  }
}
