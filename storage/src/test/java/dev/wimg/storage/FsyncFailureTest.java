package dev.wimg.storage;

import static dev.wimg.storage.StoreTest.bytes;
import static dev.wimg.storage.StoreTest.content;
import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.protocol.Fid;
import dev.wimg.testsupport.RequiresRoot;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A real fsync failure: the store's data folder is an ext4 file system on a loop device whose
 * backing file lies on a tmpfs too small for it. Once the tmpfs is full, the loop device fails
 * writes, the kernel's writeback gets EIO, {@code fdatasync} returns it, and ext4 aborts its
 * journal and turns read-only: what a dying disk does.
 *
 * <p>Then the tmpfs is enlarged, the file system checked and mounted again, and the store reopened:
 * every write that was acknowledged must read back byte-identical, and none may have been
 * acknowledged without its fsync.
 *
 * <p>Needs root (mount, losetup): skipped with the reason for another user, failed under
 * {@code CI=true}. As root, a set-up that cannot be done fails the test with the command's output.
 */
@RequiresRoot("mount a tmpfs and an ext4 file system on a loop device")
class FsyncFailureTest {

  /** Real space behind the file system: acknowledged writes stop a little before this. */
  private static final int TMPFS_MIB = 40;
  /** Apparent size of the file system image (sparse), larger than the space behind it. */
  private static final long IMAGE_BYTES = 256L << 20;
  private static final int FILE_BYTES = 256 << 10;

  private Path root;
  private Path backing;
  private Path mountPoint;
  private String loopDevice;

  @BeforeEach
  void mountFileSystemThatRunsOutOfBackingSpace() throws Exception {
    root = Files.createTempDirectory("wimg-fsync-failure-");
    backing = Files.createDirectory(root.resolve("backing"));
    mountPoint = Files.createDirectory(root.resolve("mnt"));
    run("mount", "-t", "tmpfs", "-o", "size=" + TMPFS_MIB + "m", "tmpfs", backing.toString());
    Path image = backing.resolve("disk.img");
    try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
      f.setLength(IMAGE_BYTES);
    }
    run("mkfs.ext4", "-q", "-F", image.toString());
    loopDevice = run("losetup", "--find", "--show", image.toString()).strip();
    run("mount", loopDevice, mountPoint.toString());
  }

  @AfterEach
  void unmount() throws Exception {
    if (isMounted(mountPoint)) {
      unmountOnceTheMappingsAreGone();
    }
    if (loopDevice != null) {
      runQuietly("losetup", "-d", loopDevice);
    }
    runQuietly("umount", backing.toString());
    try (var files = Files.walk(root)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** What the first store saw while the device failed under it. */
  private record Outcome(List<Fid> acknowledged, List<Integer> seeds, Throwable firstFailure,
                         int acknowledgedAfterFailure) {}

  /**
   * Writes until the device has failed several writes. The store is closed and unreachable when
   * this returns, so that its mappings can be freed.
   */
  private static Outcome writeUntilTheDeviceFails(StoreConfig config) throws Exception {
    List<Fid> acknowledged = new ArrayList<>();
    List<Integer> seeds = new ArrayList<>();
    Throwable firstFailure = null;
    int afterFailure = 0;
    int acknowledgedAfterFailure = 0;
    Store store = Store.open(config);
    try {
      for (int i = 0; i < 4 * TMPFS_MIB * (1 << 20) / FILE_BYTES && afterFailure < 5; i++) {
        try {
          WriteResult r = store.write(NewFile.of("f" + i, null, bytes(FILE_BYTES, i))).get(30, TimeUnit.SECONDS);
          acknowledged.add(r.fid());
          seeds.add(i);
          if (firstFailure != null) {
            acknowledgedAfterFailure++;
          }
        } catch (ExecutionException e) {
          firstFailure = firstFailure == null ? e.getCause() : firstFailure;
          afterFailure++;
        }
      }
    } finally {
      try {
        store.close();
      } catch (IOException expected) {
        // closing forces the volumes of a file system that is read-only by now
      }
    }
    return new Outcome(acknowledged, seeds, firstFailure, acknowledgedAfterFailure);
  }

  @Test
  void aFailedFsyncAcknowledgesNothingAndEveryAcknowledgedWriteSurvivesIt() throws Exception {
    Path data = mountPoint.resolve("data");
    StoreConfig config = StoreConfig.defaults(data).withPreallocateBytes(8 << 20);
    Outcome first = writeUntilTheDeviceFails(config);
    List<Fid> acknowledged = first.acknowledged();
    List<Integer> seeds = first.seeds();
    assertThat(first.firstFailure()).as("a write must fail once the device fails").isInstanceOf(IOException.class);
    assertThat(first.acknowledgedAfterFailure()).as("writes acknowledged after the device failed").isZero();
    assertThat(acknowledged.size()).as("writes acknowledged before the device failed")
        .isGreaterThan(10).isLessThan(TMPFS_MIB * (1 << 20) / FILE_BYTES);

    // Give the device room again, repair the file system as an operator would, reopen.
    unmountOnceTheMappingsAreGone();
    run("mount", "-o", "remount,size=512m", backing.toString());
    runAllowing(1, "e2fsck", "-f", "-y", loopDevice); // exit 1: errors corrected
    run("mount", loopDevice, mountPoint.toString());
    try (Store reopened = Store.open(config)) {
      for (int k = 0; k < acknowledged.size(); k++) {
        StoredFile f = reopened.read(acknowledged.get(k));
        assertThat(f).as("acknowledged file %s", acknowledged.get(k)).isNotNull();
        assertThat(content(f)).as("acknowledged file %s", acknowledged.get(k)).isEqualTo(bytes(FILE_BYTES, seeds.get(k)));
      }
      WriteResult after = reopened.write(NewFile.of("after", null, bytes(1000, -1))).get(30, TimeUnit.SECONDS);
      assertThat(content(reopened.read(after.fid()))).isEqualTo(bytes(1000, -1));
    }
    VerifyReport report = Store.verify(data);
    assertThat(report.problems()).isEmpty();
  }

  /**
   * The closed store's memory mappings keep the file system busy until the garbage collector frees
   * them (volumes map through {@code Arena.ofAuto()}).
   */
  private void unmountOnceTheMappingsAreGone() throws Exception {
    IllegalStateException last = null;
    for (int attempt = 0; attempt < 50; attempt++) {
      System.gc();
      Thread.sleep(100);
      try {
        run("umount", mountPoint.toString());
        return;
      } catch (IllegalStateException busy) {
        last = busy;
      }
    }
    throw last;
  }

  private static boolean isMounted(Path dir) throws IOException {
    String target = " " + dir + " ";
    return Files.readAllLines(Path.of("/proc/self/mounts")).stream().anyMatch(l -> l.contains(target));
  }

  private static String run(String... command) throws Exception {
    return runAllowing(0, command);
  }

  /** Runs {@code command}; fails with its output unless it exits 0 or {@code alsoOk}. */
  private static String runAllowing(int alsoOk, String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int code = p.waitFor();
    if (code != 0 && code != alsoOk) {
      throw new IllegalStateException(String.join(" ", command) + " exited " + code + ": " + out);
    }
    return out;
  }

  private static void runQuietly(String... command) {
    try {
      new ProcessBuilder(command).redirectErrorStream(true).start().waitFor(30, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException e) {
      // cleanup: nothing more to do
    }
  }
}
