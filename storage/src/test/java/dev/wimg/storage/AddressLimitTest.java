package dev.wimg.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.protocol.Fid;
import dev.wimg.storage.internal.IndexLog;
import dev.wimg.storage.internal.NeedleCodec;
import dev.wimg.storage.internal.Superblock;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A volume addresses 32 GiB: the index and its log hold offsets as u32 counts of 8-byte units.
 * Needles never start past that ({@code volumeSizeLimit} is at most 32 GiB), but a sealed volume
 * still takes tombstones, and one that starts past the limit must be refused, not wrapped around
 * to an offset inside the superblock.
 *
 * <p>The volume is made by hand as a sparse file: two small needles, then needles of zeros (holes,
 * nothing written but their headers and checksums) up to 16 bytes before the limit, and a log
 * naming them all. Its 32 GiB take a few MiB of disk.
 */
class AddressLimitTest {

  /** Where the records end: room for one 40-byte tombstone before the last addressable offset. */
  private static final long END = NeedleCodec.MAX_RECORD_OFFSET - 8;
  /** Largest record length whose data length still fits the header's u31, a multiple of 8. */
  private static final long MAX_FILLER = ((Integer.MAX_VALUE + 36L) & -8L);

  @TempDir Path dir;

  @Test
  void aTombstonePastTheAddressableEndIsRefusedAndTheVolumeStaysConsistent() throws Exception {
    Fid first;
    Fid second;
    try (FileChannel dat = FileChannel.open(dir.resolve("1-1.dat"), StandardOpenOption.CREATE_NEW,
             StandardOpenOption.WRITE);
         FileChannel idx = FileChannel.open(dir.resolve("1-1.idx"), StandardOpenOption.CREATE_NEW,
             StandardOpenOption.WRITE)) {
      write(dat, new Superblock(1, 1, 0, 0).encode(), 0);
      write(idx, IndexLog.encodeHeader(0), 0);
      ByteBuffer entries = ByteBuffer.allocate(64 * IndexLog.ENTRY_SIZE).order(ByteOrder.LITTLE_ENDIAN);
      CRC32C entryCrc = new CRC32C();
      long pos = Superblock.SIZE;
      long key = 0;
      for (; key < 2; key++) {
        ByteBuffer rec = NeedleCodec.encode(0, "n" + key, null, key, 1000 + (int) key, 0,
            List.of(ByteBuffer.wrap(new byte[] {1, 2, 3, (byte) key})));
        int length = rec.remaining();
        write(dat, rec, pos);
        IndexLog.putEntry(entries, entryCrc, key, pos >>> 3, length >>> 3, false);
        pos += length;
      }
      while (pos < END) {
        long length = Math.min(MAX_FILLER, END - pos);
        if (END - pos - length != 0 && END - pos - length < 40) {
          length -= 64; // leave room for a whole last record
        }
        writeZeroFiller(dat, pos, key, length);
        IndexLog.putEntry(entries, entryCrc, key, pos >>> 3, length >>> 3, false);
        pos += length;
        key++;
      }
      assertThat(pos).isEqualTo(END);
      write(idx, entries.flip(), IndexLog.HEADER_SIZE);
      first = new Fid(1, 1, 0, 1000);
      second = new Fid(1, 1, 1, 1001);
    }

    StoreConfig config = StoreConfig.defaults(dir).withVolumeSizeLimit(StoreConfig.MAX_VOLUME_SIZE_LIMIT);
    try (Store store = Store.open(config)) {
      assertThat(store.read(first)).isNotNull();
      assertThat(store.delete(first).get()).isTrue(); // its tombstone starts at END: addressable
      assertThatThrownBy(() -> store.delete(second).get())
          .isInstanceOf(ExecutionException.class)
          .cause().isInstanceOfSatisfying(OutOfSpaceException.class,
              e -> assertThat(e.reason()).isEqualTo(OutOfSpaceException.Reason.FILE_SIZE_LIMIT))
          .hasMessage("volume 1 (1-1.dat) reached offset " + (END + 40) + ", past the "
              + NeedleCodec.MAX_RECORD_OFFSET + " bytes its index can address: the delete cannot "
              + "be recorded until it is vacuumed");
      assertThat(store.read(second)).isNotNull();
      // a new needle goes to a new volume
      assertThat(store.write(NewFile.of("x", null, new byte[] {9})).get().fid().volume()).isEqualTo(2);
    }
    try (Store store = Store.open(config)) {
      assertThat(store.read(first)).isNull();
      assertThat(store.read(second)).isNotNull();
      StoreStats.VolumeStats v1 = store.stats().volumes().getFirst();
      assertThat(v1.usedBytes()).isEqualTo(END + NeedleCodec.TOMBSTONE_RECORD_LENGTH);
    }
  }

  /** A needle of {@code length} bytes whose data are zeros never written: a hole in the file. */
  private static void writeZeroFiller(FileChannel dat, long pos, long key, long length) throws Exception {
    int dataLength = (int) (length - NeedleCodec.HEADER_SIZE - NeedleCodec.CRC_SIZE);
    ByteBuffer header = ByteBuffer.allocate(NeedleCodec.HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    NeedleCodec.putHeader(header, 0, 0, key, 7, dataLength, 0);
    CRC32C crc = new CRC32C();
    crc.update(header.flip().duplicate());
    ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
    for (long left = dataLength; left > 0; left -= zeros.capacity()) {
      crc.update(zeros.clear().limit((int) Math.min(left, zeros.capacity())));
    }
    write(dat, header, pos);
    ByteBuffer trailer = ByteBuffer.allocate(NeedleCodec.CRC_SIZE).order(ByteOrder.LITTLE_ENDIAN)
        .putInt((int) crc.getValue()).flip();
    write(dat, trailer, pos + NeedleCodec.HEADER_SIZE + dataLength);
  }

  private static void write(FileChannel ch, ByteBuffer b, long at) throws Exception {
    long p = at;
    while (b.hasRemaining()) {
      p += ch.write(b, p);
    }
  }
}
