package dev.wimg.server.internal.derived;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.protocol.Fid;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DerivedIndexTest {

  @TempDir
  Path dir;

  private static final Fid ORIGINAL = new Fid(1, 1, 7, 0x1234abcd);

  private static DerivedIndex.Link link(int key, String canonical, long size) {
    return new DerivedIndex.Link(new TransformKey(ORIGINAL, canonical, ""), new Fid(1, 1, key, 42 + key), 0xCAFE,
        size, "image/jpeg");
  }

  @Test
  void linksAndRemovalsSurviveReopening() throws IOException {
    try (DerivedIndex index = DerivedIndex.open(dir, true)) {
      index.add(link(1, "w=100", 10), Long.MAX_VALUE);
      index.add(link(2, "w=200", 20), Long.MAX_VALUE);
      index.add(link(3, "format=auto&w=300", 30), Long.MAX_VALUE);
      index.logRemovals(List.of(link(2, "w=200", 20)));
      index.unlink(link(2, "w=200", 20));
    }
    try (DerivedIndex index = DerivedIndex.open(dir, true)) {
      assertThat(index.count()).isEqualTo(2);
      assertThat(index.bytes()).isEqualTo(40);
      assertThat(index.lookup(new TransformKey(ORIGINAL, "w=100", ""))).isEqualTo(link(1, "w=100", 10));
      assertThat(index.lookup(new TransformKey(ORIGINAL, "w=200", ""))).isNull();
      assertThat(index.removeOriginal(ORIGINAL)).hasSize(2);
    }
  }

  @Test
  void aTornLastEntryIsCutOffOnLoad() throws IOException {
    try (DerivedIndex index = DerivedIndex.open(dir, true)) {
      index.add(link(1, "w=100", 10), Long.MAX_VALUE);
      index.add(link(2, "w=200", 20), Long.MAX_VALUE);
    }
    Path file = dir.resolve(DerivedIndex.FILE_NAME);
    long whole = Files.size(file);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.truncate(whole - 3);
    }
    long firstEnd = DerivedIndexCodec.HEADER_SIZE
        + DerivedIndexCodec.encode(link(1, "w=100", 10).toEntry()).remaining();
    try (DerivedIndex index = DerivedIndex.open(dir, true)) {
      assertThat(index.count()).isEqualTo(1);
      assertThat(Files.size(file)).isEqualTo(firstEnd);
      index.add(link(3, "w=300", 30), Long.MAX_VALUE);
    }
    try (DerivedIndex index = DerivedIndex.open(dir, true)) {
      assertThat(index.count()).isEqualTo(2);
      assertThat(index.lookup(new TransformKey(ORIGINAL, "w=300", ""))).isNotNull();
    }
  }

  @Test
  void anEntryFailingItsCrcEndsTheLog() throws IOException {
    try (DerivedIndex index = DerivedIndex.open(dir, true)) {
      index.add(link(1, "w=100", 10), Long.MAX_VALUE);
      index.add(link(2, "w=200", 20), Long.MAX_VALUE);
    }
    Path file = dir.resolve(DerivedIndex.FILE_NAME);
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length - 6] ^= 0x01;
    Files.write(file, bytes);
    try (DerivedIndex index = DerivedIndex.open(dir, true)) {
      assertThat(index.count()).isEqualTo(1);
    }
  }

  @Test
  void addingPastTheCapUnlinksTheLeastRecentlyUsedButNeverTheNewest() throws IOException {
    try (DerivedIndex index = DerivedIndex.open(dir, false)) {
      assertThat(index.add(link(1, "w=1", 10), 25)).isEmpty();
      assertThat(index.add(link(2, "w=2", 10), 25)).isEmpty();
      index.lookup(new TransformKey(ORIGINAL, "w=1", ""));
      assertThat(index.add(link(3, "w=3", 10), 25)).containsExactly(link(2, "w=2", 10));
      assertThat(index.add(link(4, "w=4", 100), 25))
          .containsExactly(link(1, "w=1", 10), link(3, "w=3", 10));
      assertThat(index.count()).isEqualTo(1);
    }
  }

  @Test
  void aLogMostlyOfRemovedLinksIsRewrittenOnOpen() throws IOException {
    // as a crash leaves it: no clean close rewrote it
    Path file = dir.resolve(DerivedIndex.FILE_NAME);
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      out.write(DerivedIndexCodec.header());
      out.write(DerivedIndexCodec.encode(link(1, "w=1", 10).toEntry()));
      int key = 2;
      while (out.size() <= DerivedIndex.COMPACT_MIN_BYTES) {
        DerivedIndex.Link churn = link(key++, "w=2", 20);
        out.write(DerivedIndexCodec.encode(churn.toEntry()));
        out.write(DerivedIndexCodec.encode(new DerivedIndexCodec.Remove(churn.derived())));
      }
    }
    try (DerivedIndex index = DerivedIndex.open(dir, false)) {
      assertThat(index.count()).isEqualTo(1);
      assertThat(Files.size(file)).isEqualTo(DerivedIndexCodec.HEADER_SIZE
          + DerivedIndexCodec.encode(link(1, "w=1", 10).toEntry()).remaining());
      index.add(link(3, "w=3", 30), Long.MAX_VALUE);
    }
    try (DerivedIndex index = DerivedIndex.open(dir, false)) {
      assertThat(index.count()).isEqualTo(2);
      assertThat(index.bytes()).isEqualTo(40);
    }
  }

  @Test
  void recencySurvivesCloseAndReopen() throws IOException {
    try (DerivedIndex index = DerivedIndex.open(dir, false)) {
      index.add(link(1, "w=1", 10), Long.MAX_VALUE);
      index.add(link(2, "w=2", 10), Long.MAX_VALUE);
      index.add(link(3, "w=3", 10), Long.MAX_VALUE);
      index.lookup(new TransformKey(ORIGINAL, "w=1", ""));
      index.lookup(new TransformKey(ORIGINAL, "w=2", ""));
    }
    try (DerivedIndex index = DerivedIndex.open(dir, false)) {
      assertThat(index.links()).containsExactly(link(3, "w=3", 10), link(1, "w=1", 10), link(2, "w=2", 10));
      assertThat(index.add(link(4, "w=4", 10), 30)).as("the least recently used goes first")
          .containsExactly(link(3, "w=3", 10));
    }
  }

  @Test
  void closingAnIndexThatWasOnlyReadLeavesTheLogAsItIs() throws IOException {
    try (DerivedIndex index = DerivedIndex.open(dir, false)) {
      index.add(link(1, "w=1", 10), Long.MAX_VALUE);
      index.add(link(2, "w=2", 10), Long.MAX_VALUE);
      index.unlink(link(1, "w=1", 10));
      index.logRemovals(List.of(link(1, "w=1", 10)));
    }
    // the close above rewrote the log: one ADD left; append a REMOVE of nothing by hand
    Path file = dir.resolve(DerivedIndex.FILE_NAME);
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.APPEND)) {
      out.write(DerivedIndexCodec.encode(new DerivedIndexCodec.Remove(new Fid(1, 1, 99, 99))));
    }
    byte[] before = Files.readAllBytes(file);
    try (DerivedIndex index = DerivedIndex.open(dir, false)) {
      assertThat(index.count()).isEqualTo(1);
      assertThat(index.lookup(new TransformKey(ORIGINAL, "w=9", ""))).isNull();
    }
    assertThat(Files.readAllBytes(file)).isEqualTo(before);
    try (DerivedIndex index = DerivedIndex.open(dir, false)) {
      assertThat(index.lookup(new TransformKey(ORIGINAL, "w=2", ""))).isNotNull();
    }
    assertThat(Files.size(file)).as("rewritten after a lookup, without the REMOVE")
        .isEqualTo(DerivedIndexCodec.HEADER_SIZE + DerivedIndexCodec.encode(link(2, "w=2", 10).toEntry()).remaining());
  }

  @Test
  void aFileWithoutTheMagicIsRefused() throws IOException {
    Files.write(dir.resolve(DerivedIndex.FILE_NAME), "not an index at all".getBytes());
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> DerivedIndex.open(dir, false))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("derived index has no WDIX magic");
  }

  @Test
  void codecRoundTripsBothKinds() throws CorruptDerivedIndexException {
    DerivedIndexCodec.Add add = link(9, "h=5&mode=fill&w=5|auto:wa", 123).toEntry();
    ByteBuffer encoded = DerivedIndexCodec.encode(add);
    assertThat(DerivedIndexCodec.decode(encoded, 0, 0).entry()).isEqualTo(add);
    DerivedIndexCodec.Remove remove = new DerivedIndexCodec.Remove(new Fid(3, 9, 0xFFFF_FFFFL, -1));
    ByteBuffer removed = DerivedIndexCodec.encode(remove);
    assertThat(removed.remaining()).isEqualTo(DerivedIndexCodec.ENTRY_OVERHEAD + DerivedIndexCodec.FID_SIZE);
    assertThat(DerivedIndexCodec.decode(removed, 0, 0).entry()).isEqualTo(remove);
  }
}
