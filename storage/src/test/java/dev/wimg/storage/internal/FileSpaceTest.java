package dev.wimg.storage.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileSpaceTest {

  @TempDir
  Path dir;

  @Test
  void grownRangeReadsAsZerosAndKeepsTheBytesBeforeIt() throws Exception {
    Path file = dir.resolve("v.dat");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5}));
      FileSpace.extend(ch, file, 3 << 20);
      assertThat(ch.size()).isEqualTo(3 << 20);
      ByteBuffer all = ByteBuffer.allocate(3 << 20);
      while (all.hasRemaining() && ch.read(all, all.position()) > 0) {
        // read the whole file
      }
      byte[] bytes = all.array();
      assertThat(bytes).startsWith(1, 2, 3, 4, 5);
      for (int i = 5; i < bytes.length; i++) {
        if (bytes[i] != 0) {
          throw new AssertionError("byte " + i + " of the grown range is " + bytes[i]);
        }
      }
    }
  }

  @Test
  void aSizeNotLargerThanTheFileChangesNothing() throws Exception {
    Path file = dir.resolve("v.dat");
    Files.write(file, new byte[100]);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      FileSpace.extend(ch, file, 50);
      FileSpace.extend(ch, file, 100);
      assertThat(ch.size()).isEqualTo(100);
    }
  }

  @Test
  void appendsIntoTheGrownRangeKeepTheFileSize() throws Exception {
    Path file = dir.resolve("v.dat");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      FileSpace.extend(ch, file, 1 << 20);
      ch.write(ByteBuffer.wrap(new byte[4096]), 8192);
      ch.force(false);
      assertThat(ch.size()).isEqualTo(1 << 20);
      assertThat(Files.size(file)).isEqualTo(1 << 20);
    }
  }
}
