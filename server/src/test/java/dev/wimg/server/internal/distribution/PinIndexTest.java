package dev.wimg.server.internal.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.protocol.Fid;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pin index log ({@link PinIndex}) on disk: what was appended comes back after a reopen, a
 * DROP ends a file's pin, a torn tail is cut off on load (and the log goes on from there), a
 * header cut off before any entry is written again, and a file that is not a pin index is refused
 * by name.
 */
class PinIndexTest {

  @TempDir
  Path dir;

  private static final Fid FILE = new Fid(1, 1, 10, 0x1111_1111);
  private static final Fid OTHER = new Fid(2, 7, 20, 0x2222_2222);

  private static Fid chunk(int i) {
    return new Fid(1, 1, 100 + i, 0x3300 + i);
  }

  private static Fid local(int i) {
    return new Fid(1, 1, i, 0x4400 + i);
  }

  private static PinIndexCodec.Piece piece(Fid file, int index, int n) {
    return new PinIndexCodec.Piece(file, chunk(n), local(n), index);
  }

  private static int size(PinIndexCodec.Entry e) {
    return PinIndexCodec.encode(e).remaining();
  }

  @Test
  void appendedEntriesAreThereAfterReopening() throws IOException {
    try (PinIndex index = PinIndex.open(dir)) {
      assertThat(index.needles()).isZero();
      index.append(piece(FILE, 0, 1));
      index.append(piece(FILE, 1, 2));
      index.append(new PinIndexCodec.File(FILE, local(3), 0xCAFE_F00D));
      index.append(piece(OTHER, 4, 4));
      assertThat(index.needles()).isEqualTo(4);
    }
    try (PinIndex index = PinIndex.open(dir)) {
      assertThat(index.needles()).isEqualTo(4);
      assertThat(index.piece(chunk(1))).isEqualTo(new PinIndex.PinnedPiece(FILE, 0, local(1)));
      assertThat(index.piece(chunk(2))).isEqualTo(new PinIndex.PinnedPiece(FILE, 1, local(2)));
      assertThat(index.piece(chunk(4))).isEqualTo(new PinIndex.PinnedPiece(OTHER, 4, local(4)));
      assertThat(index.piece(chunk(3))).isNull();
      assertThat(index.pieces(FILE)).containsExactlyInAnyOrder(new PinIndex.PinnedPiece(FILE, 0, local(1)),
          new PinIndex.PinnedPiece(FILE, 1, local(2)));
      assertThat(index.file(FILE)).isEqualTo(new PinIndex.PinnedFile(local(3), 0xCAFE_F00D));
      assertThat(index.file(OTHER)).isNull();
    }
    assertThat(Files.size(dir.resolve(PinIndex.FILE_NAME))).isEqualTo(PinIndexCodec.HEADER_SIZE + 3 * 51 + 37);
  }

  @Test
  void aNewLogIsItsHeaderAlone() throws IOException {
    try (PinIndex index = PinIndex.open(dir)) {
      assertThat(index.needles()).isZero();
    }
    byte[] bytes = Files.readAllBytes(dir.resolve(PinIndex.FILE_NAME));
    assertThat(bytes).containsExactly('W', 'P', 'I', 'X', 1, 0, 0, 0);
    try (PinIndex index = PinIndex.open(dir)) {
      assertThat(index.needles()).isZero();
    }
  }

  @Test
  void aDropEndsTheFilesPiecesAndFileButNoOtherFiles() throws IOException {
    try (PinIndex index = PinIndex.open(dir)) {
      index.append(piece(FILE, 0, 1));
      index.append(piece(FILE, 1, 2));
      index.append(new PinIndexCodec.File(FILE, local(3), 7));
      index.append(piece(OTHER, 0, 4));
      index.append(new PinIndexCodec.Drop(FILE));
      assertThat(index.file(FILE)).isNull();
      assertThat(index.pieces(FILE)).isEmpty();
      assertThat(index.piece(chunk(1))).isNull();
      assertThat(index.needles()).isEqualTo(1);
    }
    try (PinIndex index = PinIndex.open(dir)) {
      assertThat(index.file(FILE)).isNull();
      assertThat(index.pieces(FILE)).isEmpty();
      assertThat(index.piece(chunk(1))).isNull();
      assertThat(index.piece(chunk(2))).isNull();
      assertThat(index.piece(chunk(4))).isEqualTo(new PinIndex.PinnedPiece(OTHER, 0, local(4)));
      assertThat(index.needles()).isEqualTo(1);
      // pinned again after its drop
      index.append(piece(FILE, 0, 5));
    }
    try (PinIndex index = PinIndex.open(dir)) {
      assertThat(index.pieces(FILE)).containsExactly(new PinIndex.PinnedPiece(FILE, 0, local(5)));
      assertThat(index.file(FILE)).isNull();
    }
  }

  @Test
  void aTornTailIsCutAtTheLastWholeEntryWhereverTheCrashStopped() throws IOException {
    PinIndexCodec.Entry first = piece(FILE, 0, 1);
    PinIndexCodec.Entry second = piece(FILE, 1, 2);
    PinIndexCodec.Entry third = new PinIndexCodec.File(FILE, local(3), 99);
    PinIndexCodec.Entry later = piece(OTHER, 0, 4);
    Path file = dir.resolve(PinIndex.FILE_NAME);
    try (PinIndex index = PinIndex.open(dir)) {
      index.append(first);
      index.append(second);
      index.append(third);
    }
    byte[] whole = Files.readAllBytes(file);
    int secondEnd = PinIndexCodec.HEADER_SIZE + size(first) + size(second);
    assertThat(whole).hasSize(secondEnd + size(third));
    for (int cut = secondEnd; cut < whole.length; cut++) {
      Files.write(file, Arrays.copyOf(whole, cut));
      try (PinIndex index = PinIndex.open(dir)) {
        assertThat(index.needles()).as("cut at %d", cut).isEqualTo(2);
        assertThat(index.pieces(FILE)).as("cut at %d", cut).hasSize(2);
        assertThat(index.file(FILE)).as("cut at %d", cut).isNull();
      }
      assertThat(Files.size(file)).as("cut at %d", cut).isEqualTo(secondEnd);
    }
    // the log goes on from the cut
    try (PinIndex index = PinIndex.open(dir)) {
      index.append(later);
    }
    try (PinIndex index = PinIndex.open(dir)) {
      assertThat(index.needles()).isEqualTo(3);
      assertThat(index.piece(chunk(4))).isEqualTo(new PinIndex.PinnedPiece(OTHER, 0, local(4)));
      assertThat(index.pieces(FILE)).hasSize(2);
    }
    assertThat(Files.size(file)).isEqualTo(secondEnd + size(later));
  }

  @Test
  void garbageAfterTheLastEntryIsCutAndTheNextAppendIsReadBack() throws IOException {
    Path file = dir.resolve(PinIndex.FILE_NAME);
    try (PinIndex index = PinIndex.open(dir)) {
      index.append(piece(FILE, 0, 1));
      index.append(piece(FILE, 1, 2));
    }
    long end = Files.size(file);
    for (byte[] garbage : List.of(new byte[] {0}, new byte[] {1, 2, 3}, new byte[] {(byte) 0xFF, 9, 9, 9, 9},
        new byte[60])) {
      byte[] before = Files.readAllBytes(file);
      byte[] torn = Arrays.copyOf(before, before.length + garbage.length);
      System.arraycopy(garbage, 0, torn, before.length, garbage.length);
      Files.write(file, torn);
      try (PinIndex index = PinIndex.open(dir)) {
        assertThat(index.needles()).isEqualTo(2);
      }
      assertThat(Files.size(file)).isEqualTo(end);
    }
    try (PinIndex index = PinIndex.open(dir)) {
      index.append(new PinIndexCodec.File(FILE, local(3), 5));
    }
    try (PinIndex index = PinIndex.open(dir)) {
      assertThat(index.file(FILE)).isEqualTo(new PinIndex.PinnedFile(local(3), 5));
      assertThat(index.needles()).isEqualTo(3);
    }
  }

  @Test
  void anAppendAfterTheCutOfATornTailIsReadBack() throws IOException {
    // cut in the middle of the last entry: the reopen that cuts it appends at once
    Path file = dir.resolve(PinIndex.FILE_NAME);
    try (PinIndex index = PinIndex.open(dir)) {
      index.append(piece(FILE, 0, 1));
      index.append(piece(FILE, 1, 2));
      index.append(piece(FILE, 2, 3));
    }
    byte[] whole = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(whole, whole.length - 20));
    try (PinIndex index = PinIndex.open(dir)) {
      index.append(new PinIndexCodec.Drop(OTHER));
      index.append(piece(FILE, 5, 6));
    }
    try (PinIndex index = PinIndex.open(dir)) {
      assertThat(index.pieces(FILE)).extracting(PinIndex.PinnedPiece::index).containsExactlyInAnyOrder(0, 1, 5);
    }
  }

  @Test
  void aFileWithAnotherMagicIsRefusedNamingIt() throws IOException {
    Path file = dir.resolve(PinIndex.FILE_NAME);
    Files.write(file, "not a pin index".getBytes());
    assertThatThrownBy(() -> PinIndex.open(dir)).isInstanceOf(IOException.class)
        .hasMessage("pin index " + file + ": no WPIX magic");
    assertThat(Files.readAllBytes(file)).asString().isEqualTo("not a pin index");
  }

  @Test
  void aFileOfAnotherVersionIsRefusedNamingTheVersionsRead() throws IOException {
    Path file = dir.resolve(PinIndex.FILE_NAME);
    ByteBuffer header = PinIndexCodec.header();
    byte[] bytes = new byte[header.remaining()];
    header.get(bytes);
    bytes[4] = 2;
    Files.write(file, bytes);
    assertThatThrownBy(() -> PinIndex.open(dir)).isInstanceOf(IOException.class)
        .hasMessage("pin index " + file + ": format version 2 is not read here; this build reads 1..1");
  }

  @Test
  void aHeaderCutOffByACrashBeforeAnyEntryIsWrittenAgain() throws IOException {
    Path file = dir.resolve(PinIndex.FILE_NAME);
    byte[] header = new byte[PinIndexCodec.HEADER_SIZE];
    PinIndexCodec.header().get(header);
    for (int length = 1; length <= PinIndexCodec.HEADER_SIZE; length++) {
      for (byte[] bytes : new byte[][] {java.util.Arrays.copyOf(header, length), new byte[length]}) {
        if (length == PinIndexCodec.HEADER_SIZE && bytes[0] == 'W') {
          continue; // the whole header: nothing to mend
        }
        Files.write(file, bytes);
        try (PinIndex index = PinIndex.open(dir)) {
          index.append(piece(FILE, 0, 1));
        }
        try (PinIndex index = PinIndex.open(dir)) {
          assertThat(index.piece(chunk(1))).as("after %d bytes %s", length, bytes[0] == 'W' ? "of header" : "of zeros")
              .isEqualTo(new PinIndex.PinnedPiece(FILE, 0, local(1)));
        }
      }
    }
  }
}
