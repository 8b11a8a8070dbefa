package dev.wimg.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.protocol.Fid;
import dev.wimg.testsupport.RequiresRoot;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A real disk read error under a live store: the data folder is an ext4 file system on a loop
 * device, and once the needles are written and dropped from the page cache, the device is cut
 * short in the middle of the volume file. Reading a needle past the cut makes the block layer fail
 * the read (EIO), which reaches the store as {@code SIGBUS} on its mapping: what a disk with bad
 * sectors does.
 *
 * <p>Needs root (losetup, mount): skipped with the reason for other users, run under CI.
 */
@RequiresRoot("attach a loop device and mount it (a real EIO on read)")
class DiskReadErrorTest {

  private static final long IMAGE_BYTES = 64L << 20;
  private static final int BLOCK = 4096;
  private static final int FILE_BYTES = 64 << 10;
  private static final int FILES = 8;
  /** Needles 0..2 lie wholly before the cut, needles from 4 on wholly after it. */
  private static final long CUT_AT_DAT_OFFSET = 4L * FILE_BYTES;

  private Path root;
  private Path image;
  private Path mountPoint;
  private String loopDevice;

  @Test
  void needleOnBlocksThatFailToReadThrowsVolumeReadExceptionAndTheRestReads() throws Exception {
    root = Files.createTempDirectory("wimg-read-eio-");
    mountPoint = Files.createDirectory(root.resolve("mnt"));
    image = root.resolve("disk.img");
    try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
      f.setLength(IMAGE_BYTES);
    }
    run("mkfs.ext4", "-q", "-F", "-b", Integer.toString(BLOCK), "-O", "^has_journal", image.toString());
    loopDevice = run("losetup", "--find", "--show", image.toString()).strip();
    run("mount", "-o", "noatime", loopDevice, mountPoint.toString());
    Path data = mountPoint.resolve("data");

    Store store = Store.open(StoreConfig.defaults(data).withPreallocateBytes(1 << 20)
        .withFsyncPolicy(FsyncPolicy.ALWAYS));
    try {
      List<Fid> fids = new ArrayList<>();
      for (int i = 0; i < FILES; i++) {
        fids.add(store.write(new NewFile(null, null, 1L, List.of(ByteBuffer.wrap(bytes(i))))).get().fid());
      }
      assertThat(fids).allMatch(f -> f.volume() == 1);
      Path dat = data.resolve("1-1.dat");

      long cutBlock = physicalBlock(dat, CUT_AT_DAT_OFFSET / BLOCK);
      run("truncate", "-s", Long.toString(cutBlock * BLOCK), image.toString());
      run("losetup", "-c", loopDevice);
      // Drop the volume's cached pages (fsynced, so clean): reads must go to the device.
      run("dd", "if=" + dat, "of=/dev/null", "iflag=nocache", "count=0", "status=none");

      for (int i = 4; i < FILES; i++) {
        Fid fid = fids.get(i);
        assertThatThrownBy(() -> store.read(fid))
            .as("read of needle %d, past the cut", i)
            .isExactlyInstanceOf(VolumeReadException.class)
            .hasCauseExactlyInstanceOf(InternalError.class);
      }
      for (int i = 0; i < 3; i++) {
        assertThat(content(store.read(fids.get(i)))).as("needle %d, before the cut", i).isEqualTo(bytes(i));
      }
      StoreStats.VolumeStats volume = store.stats().volumes().get(0);
      assertThat(volume.readErrors()).isEqualTo(FILES - 4);
      assertThat(volume.needsCheck()).isTrue();
    } finally {
      try {
        store.close();
      } catch (IOException expected) {
        // the device lost the .idx's blocks too: closing may fail to write them
      }
    }
  }

  /** The file system block that holds block {@code logical} of {@code file}, from filefrag. */
  private static long physicalBlock(Path file, long logical) throws Exception {
    String map = run("filefrag", "-v", "-b" + BLOCK, file.toString());
    Matcher extent = Pattern.compile("(?m)^\\s*\\d+:\\s+(\\d+)\\.\\.\\s*(\\d+):\\s+(\\d+)\\.\\.\\s*(\\d+):").matcher(map);
    long cut = -1;
    long highestBefore = -1;
    while (extent.find()) {
      long firstLogical = Long.parseLong(extent.group(1));
      long lastLogical = Long.parseLong(extent.group(2));
      long firstPhysical = Long.parseLong(extent.group(3));
      if (logical >= firstLogical && logical <= lastLogical) {
        cut = firstPhysical + logical - firstLogical;
      }
      long lastBefore = Math.min(lastLogical, logical - 1);
      if (lastBefore >= firstLogical) {
        highestBefore = Math.max(highestBefore, firstPhysical + lastBefore - firstLogical);
      }
    }
    if (cut < 0 || highestBefore >= cut) {
      throw new IllegalStateException("the volume file is not laid out in ascending blocks, cannot cut"
          + " after block " + logical + ":\n" + map);
    }
    return cut;
  }

  @AfterEach
  void unmount() throws Exception {
    if (root == null) {
      return;
    }
    if (Files.readAllLines(Path.of("/proc/self/mounts")).stream().anyMatch(l -> l.contains(" " + mountPoint + " "))) {
      // The store's mappings go with garbage collection; until then the file system is busy.
      IllegalStateException last = null;
      for (int attempt = 0; attempt < 50; attempt++) {
        System.gc();
        Thread.sleep(100);
        try {
          run("umount", mountPoint.toString());
          last = null;
          break;
        } catch (IllegalStateException busy) {
          last = busy;
        }
      }
      if (last != null) {
        throw last;
      }
    }
    if (loopDevice != null) {
      new ProcessBuilder("losetup", "-d", loopDevice).start().waitFor(30, TimeUnit.SECONDS);
    }
    try (var files = Files.walk(root)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static byte[] bytes(long seed) {
    byte[] b = new byte[FILE_BYTES];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] content(StoredFile f) {
    byte[] out = new byte[f.data().remaining()];
    f.data().duplicate().get(out);
    return out;
  }

  private static String run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int code = p.waitFor();
    if (code != 0) {
      throw new IllegalStateException(String.join(" ", command) + " exited " + code + ": " + out);
    }
    return out;
  }
}
