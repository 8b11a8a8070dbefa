package dev.wimg.storage.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PageResidencyTest {

  @TempDir
  Path dir;

  @Test
  void writtenPagesAreSeenResidentAndNeverTouchedSparsePagesAreNot() throws Exception {
    assumeTrue(PageResidency.available(), "mincore is bound on Linux with 4 KiB pages");
    Path file = dir.resolve("v.dat");
    long page = PageResidency.PAGE_SIZE;
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(64 * page); // a hole: no page of it is in the page cache
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[(int) (3 * page)]).put(0, (byte) 1), 0); // pages 0..2 written
      MemorySegment mapping = ch.map(FileChannel.MapMode.READ_ONLY, 0, 64 * page, Arena.ofAuto());
      PageResidency snapshot = PageResidency.scan(mapping, Long.MAX_VALUE);

      assertThat(snapshot).isNotNull();
      assertThat(snapshot.allResident(mapping, 0, 3 * page)).isTrue();
      assertThat(snapshot.allResident(mapping, 100, 2 * page)).isTrue();
      assertThat(snapshot.allResident(mapping, 40 * page, 10)).isFalse();
      assertThat(snapshot.allResident(mapping, 2 * page, 2 * page)).as("a range reaching a hole").isFalse();
      assertThat(snapshot.allResident(mapping, 63 * page, 2 * page)).as("past the scanned pages").isFalse();

      MemorySegment other = ch.map(FileChannel.MapMode.READ_ONLY, 0, 64 * page, Arena.ofAuto());
      assertThat(snapshot.allResident(other, 0, page)).as("another mapping of the file").isFalse();

      PageResidency vouchingForTwoPages = PageResidency.scan(mapping, 2 * page);
      assertThat(vouchingForTwoPages.allResident(mapping, 0, 2 * page)).isTrue();
      assertThat(vouchingForTwoPages.allResident(mapping, page, page + 1))
          .as("a resident range reaching past the vouched end").isFalse();
    }
  }
}
