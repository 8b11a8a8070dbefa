package dev.wimg.server.internal.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.protocol.Fid;
import dev.wimg.storage.FsyncPolicy;
import dev.wimg.storage.StoreConfig;
import dev.wimg.storage.StoredFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pinned copies ({@link PinnedCopies}) over a real store in {@code <data>/pinned}: pieces and whole
 * files are served under their original fids with what the source served, survive a reopen, and
 * end with a drop.
 */
class PinnedCopiesTest {

  @TempDir
  Path dir;

  private static final Fid FILE = new Fid(3, 0x0001_0002, 0x77, 0x1234_5678);
  private static final Fid CHUNK_0 = new Fid(3, 0x0001_0002, 0x78, 0x0BAD_CAFE);
  private static final Fid CHUNK_1 = new Fid(3, 0x0002_0001, 0x79, 0xDEAD_BEEF);
  private static final Fid CHUNK_2 = new Fid(3, 0x0002_0001, 0x7A, 0x0000_0001);
  private static final Fid OTHER = new Fid(4, 4, 4, 4);
  private static final Fid OTHER_CHUNK = new Fid(4, 4, 5, 5);
  private static final String NAME = "holiday film.mkv";
  private static final String MIME = "video/x-matroska";
  private static final long LAST_MODIFIED = 1_700_000_000_123L;
  private static final int ETAG = 0xFACE_B00C;

  private StoreConfig originals() {
    return StoreConfig.defaults(dir).withFsyncPolicy(FsyncPolicy.NEVER).withPreallocateBytes(1 << 20);
  }

  private static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  private static final byte[] PIECE_0 = bytes(70_000, 1);
  private static final byte[] PIECE_1 = bytes(5, 2);
  private static final byte[] PIECE_2 = bytes(1, 3);
  private static final byte[] MANIFEST = ("{\"chunks\":[\"" + CHUNK_0 + "\",\"" + CHUNK_1 + "\",\"" + CHUNK_2 + "\"]}")
      .getBytes(StandardCharsets.UTF_8);

  private static void pinWhole(PinnedCopies pins) throws IOException {
    pins.putPiece(FILE, 0, CHUNK_0, ByteBuffer.wrap(PIECE_0));
    pins.putPiece(FILE, 1, CHUNK_1, ByteBuffer.wrap(PIECE_1));
    pins.putPiece(FILE, 2, CHUNK_2, ByteBuffer.wrap(PIECE_2));
    pins.putFile(FILE, ByteBuffer.wrap(MANIFEST), NAME, MIME, LAST_MODIFIED, ETAG);
  }

  private static void assertPiece(PinnedCopies pins, Fid chunk, byte[] expected) throws IOException {
    StoredFile piece = pins.read(chunk);
    assertThat(piece).as("piece %s", chunk).isNotNull();
    assertThat(piece.fid()).isEqualTo(chunk);
    assertThat(piece.manifest()).isFalse();
    assertThat(piece.name()).isNull();
    assertThat(bytes(piece.data())).isEqualTo(expected);
  }

  private static void assertWhole(PinnedCopies pins) throws IOException {
    StoredFile file = pins.read(FILE);
    assertThat(file).isNotNull();
    assertThat(file.fid()).isEqualTo(FILE);
    assertThat(file.manifest()).isTrue();
    assertThat(file.name()).isEqualTo(NAME);
    assertThat(file.mime()).isEqualTo(MIME);
    assertThat(file.lastModified()).isEqualTo(LAST_MODIFIED);
    assertThat(file.checksum()).isEqualTo(ETAG);
    assertThat(file.etag()).isEqualTo("\"faceb00c\"");
    assertThat(bytes(file.data())).isEqualTo(MANIFEST);
    assertPiece(pins, CHUNK_0, PIECE_0);
    assertPiece(pins, CHUNK_1, PIECE_1);
    assertPiece(pins, CHUNK_2, PIECE_2);
    assertThat(pins.pieces(FILE)).isEqualTo(BitSet.valueOf(new long[] {0b111}));
    assertThat(pins.holds(FILE)).isTrue();
    assertThat(pins.holdsFile(FILE)).isTrue();
    assertThat(pins.holds(CHUNK_1)).isTrue();
    assertThat(pins.holdsFile(CHUNK_1)).isFalse();
  }

  @Test
  void aPinnedPieceIsServedUnderItsChunkFidBeforeTheFileIsWhole() throws IOException {
    try (PinnedCopies pins = PinnedCopies.open(originals())) {
      assertThat(pins.read(CHUNK_1)).isNull();
      pins.putPiece(FILE, 1, CHUNK_1, ByteBuffer.wrap(PIECE_1));
      assertPiece(pins, CHUNK_1, PIECE_1);
      assertThat(pins.pieces(FILE)).isEqualTo(BitSet.valueOf(new long[] {0b10}));
      assertThat(pins.holds(CHUNK_1)).isTrue();
      assertThat(pins.holds(CHUNK_0)).isFalse();
      assertThat(pins.holds(FILE)).as("no piece is the file").isFalse();
      assertThat(pins.holdsFile(FILE)).isFalse();
      assertThat(pins.read(FILE)).as("not served until whole").isNull();
      assertThat(pins.read(CHUNK_0)).isNull();
      pins.putPiece(FILE, 0, CHUNK_0, ByteBuffer.wrap(PIECE_0));
      assertThat(pins.pieces(FILE)).isEqualTo(BitSet.valueOf(new long[] {0b11}));
      assertPiece(pins, CHUNK_0, PIECE_0);
    }
  }

  @Test
  void aWholeFileIsServedAsItsSourceServesIt() throws IOException {
    try (PinnedCopies pins = PinnedCopies.open(originals())) {
      pinWhole(pins);
      assertWhole(pins);
      assertThat(pins.store().stats().liveNeedles()).isEqualTo(4);
    }
    assertThat(Files.exists(dir.resolve(PinnedCopies.DIR).resolve(PinIndex.FILE_NAME))).isTrue();
  }

  @Test
  void everythingPinnedIsThereAfterReopening() throws IOException {
    try (PinnedCopies pins = PinnedCopies.open(originals())) {
      pinWhole(pins);
      pins.putPiece(OTHER, 9, OTHER_CHUNK, ByteBuffer.wrap(PIECE_2));
    }
    try (PinnedCopies pins = PinnedCopies.open(originals())) {
      assertWhole(pins);
      assertThat(pins.pieces(OTHER)).isEqualTo(BitSet.valueOf(new long[] {1L << 9}));
      assertThat(pins.holdsFile(OTHER)).isFalse();
      assertPiece(pins, OTHER_CHUNK, PIECE_2);
      assertThat(pins.store().stats().liveNeedles()).isEqualTo(5);
    }
  }

  @Test
  void aDroppedFileIsGoneWithItsPiecesAlsoAfterReopening() throws IOException {
    try (PinnedCopies pins = PinnedCopies.open(originals())) {
      pinWhole(pins);
      pins.putPiece(OTHER, 0, OTHER_CHUNK, ByteBuffer.wrap(PIECE_1));
      pins.drop(FILE);
      assertDropped(pins);
      assertPiece(pins, OTHER_CHUNK, PIECE_1);
      assertThat(pins.store().stats().liveNeedles()).as("the needles are deleted").isEqualTo(1);
    }
    try (PinnedCopies pins = PinnedCopies.open(originals())) {
      assertDropped(pins);
      assertPiece(pins, OTHER_CHUNK, PIECE_1);
      assertThat(pins.store().stats().liveNeedles()).isEqualTo(1);
      // a drop of nothing pinned changes nothing
      pins.drop(FILE);
      assertThat(pins.store().stats().liveNeedles()).isEqualTo(1);
    }
  }

  @Test
  void aFileCanBePinnedAgainAfterItsDrop() throws IOException {
    try (PinnedCopies pins = PinnedCopies.open(originals())) {
      pinWhole(pins);
      pins.drop(FILE);
      pinWhole(pins);
      assertWhole(pins);
    }
    try (PinnedCopies pins = PinnedCopies.open(originals())) {
      assertWhole(pins);
      assertThat(pins.store().stats().liveNeedles()).isEqualTo(4);
    }
  }

  private static void assertDropped(PinnedCopies pins) throws IOException {
    assertThat(pins.read(FILE)).isNull();
    assertThat(pins.read(CHUNK_0)).isNull();
    assertThat(pins.read(CHUNK_1)).isNull();
    assertThat(pins.read(CHUNK_2)).isNull();
    assertThat(pins.holds(FILE)).isFalse();
    assertThat(pins.holdsFile(FILE)).isFalse();
    assertThat(pins.holds(CHUNK_0)).isFalse();
    assertThat(pins.pieces(FILE)).isEqualTo(new BitSet());
  }

  @Test
  void pinningAPiecePinnedAlreadyWritesNothing() throws IOException {
    try (PinnedCopies pins = PinnedCopies.open(originals())) {
      pins.putPiece(FILE, 0, CHUNK_0, ByteBuffer.wrap(PIECE_0));
      long needles = pins.store().stats().liveNeedles();
      long logSize = Files.size(dir.resolve(PinnedCopies.DIR).resolve(PinIndex.FILE_NAME));
      pins.putPiece(FILE, 0, CHUNK_0, ByteBuffer.wrap(PIECE_0));
      pins.putPiece(FILE, 0, CHUNK_0, ByteBuffer.wrap(PIECE_1));
      assertThat(pins.store().stats().liveNeedles()).isEqualTo(needles).isEqualTo(1);
      assertThat(Files.size(dir.resolve(PinnedCopies.DIR).resolve(PinIndex.FILE_NAME))).isEqualTo(logSize);
      assertPiece(pins, CHUNK_0, PIECE_0);
    }
  }

  @Test
  void pinningAFilePinnedAlreadyWritesNothing() throws IOException {
    try (PinnedCopies pins = PinnedCopies.open(originals())) {
      pinWhole(pins);
      pins.putFile(FILE, ByteBuffer.wrap(new byte[] {1}), "other", "text/plain", 1, 2);
      assertThat(pins.store().stats().liveNeedles()).isEqualTo(4);
      assertWhole(pins);
    }
  }

  @Test
  void theBytesGivenAreNotConsumed() throws IOException {
    ByteBuffer piece = ByteBuffer.wrap(PIECE_0);
    ByteBuffer manifest = ByteBuffer.wrap(MANIFEST);
    try (PinnedCopies pins = PinnedCopies.open(originals())) {
      pins.putPiece(FILE, 0, CHUNK_0, piece);
      pins.putFile(FILE, manifest, NAME, MIME, LAST_MODIFIED, ETAG);
    }
    assertThat(piece.remaining()).isEqualTo(PIECE_0.length);
    assertThat(manifest.remaining()).isEqualTo(MANIFEST.length);
  }
}
