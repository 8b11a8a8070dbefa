package dev.wimg.server.internal.large;

import dev.wimg.protocol.Fid;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A large file's manifest: the data of the needle whose fid is the file's fid (marked {@code
 * manifest} in its needle header), listing the chunks that hold the file's bytes in order. Each
 * chunk is a needle of its own. Little-endian, as every WIMG format (docs/FORMAT.md, "Large
 * files").
 *
 * <p>Header, {@value #HEADER_BYTES} bytes:
 * <pre>
 * offset size type  field
 * 0      4    u32   magic: ASCII "WMAN"
 * 4      1    u8    version (1)
 * 5      3    -     reserved, zero
 * 8      8    u64   file size, bytes
 * 16     4    u32   chunk count N
 * 20     4    u32   chunk size the file was cut at, bytes: no chunk is larger (a raw upload's
 *                   chunks all have it but the last; a resumable upload's end where its PATCHes
 *                   did, too)
 * </pre>
 * Then N chunk entries of {@value #CHUNK_BYTES} bytes:
 * <pre>
 * offset size type  field
 * 0      2    u16   group of the chunk's fid
 * 2      2    -     reserved, zero
 * 4      4    u32   volume
 * 8      4    u32   key
 * 12     4    u32   cookie
 * 16     8    u64   offset of the chunk in the file
 * 24     4    u32   size of the chunk, bytes (1..2^31-1)
 * 28     4    -     reserved, zero
 * 32     32   bytes SHA-256 of the chunk's bytes
 * </pre>
 * The chunks follow each other with no gap from offset 0 and end at the file size. The needle's
 * own CRC32C covers these bytes on disk; {@link #decode} checks every rule above, so a manifest
 * that breaks one is reported, never followed.
 *
 * @param size      the file's size
 * @param chunkSize the size the file was cut at: no chunk is larger
 * @param chunks    the chunks in file order
 */
public record Manifest(long size, int chunkSize, List<Chunk> chunks) {

  /** ASCII "WMAN" as a little-endian int. */
  static final int MAGIC = 'W' | 'M' << 8 | 'A' << 16 | 'N' << 24;
  static final int VERSION = 1;
  static final int HEADER_BYTES = 24;
  static final int CHUNK_BYTES = 64;
  /** Most chunks one manifest lists: 2^31 - 1 bytes of entries at most, well past any file. */
  static final int MAX_CHUNKS = (Integer.MAX_VALUE - HEADER_BYTES) / CHUNK_BYTES;

  /**
   * One chunk.
   *
   * @param fid    the chunk's needle
   * @param offset where its bytes start in the file
   * @param size   its bytes
   * @param sha256 SHA-256 of its bytes, 32 bytes
   */
  public record Chunk(Fid fid, long offset, int size, byte[] sha256) {

    public Chunk {
      if (sha256.length != 32) {
        throw new IllegalArgumentException("a SHA-256 is 32 bytes, got " + sha256.length);
      }
    }

    public long end() {
      return offset + size;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Chunk c && fid.equals(c.fid) && offset == c.offset && size == c.size
          && Arrays.equals(sha256, c.sha256);
    }

    @Override
    public int hashCode() {
      return fid.hashCode() * 31 + Arrays.hashCode(sha256);
    }

    @Override
    public String toString() {
      return "Chunk[" + fid + " @" + offset + " +" + size + "]";
    }
  }

  public Manifest {
    chunks = List.copyOf(chunks);
    long at = 0;
    for (Chunk c : chunks) {
      if (c.offset() != at || c.size() <= 0) {
        throw new IllegalArgumentException("chunk " + c + " does not follow the one before (at " + at + ")");
      }
      at = c.end();
    }
    if (at != size) {
      throw new IllegalArgumentException("chunks end at " + at + ", the file is " + size + " bytes");
    }
    if (chunkSize <= 0) {
      throw new IllegalArgumentException("chunk size must be positive, got " + chunkSize);
    }
  }

  /** The manifest's bytes (a new heap buffer, position 0). */
  public ByteBuffer encode() {
    ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + chunks.size() * CHUNK_BYTES)
        .order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(MAGIC).put((byte) VERSION).put(new byte[3]).putLong(size).putInt(chunks.size())
        .putInt(chunkSize);
    for (Chunk c : chunks) {
      b.putShort((short) c.fid().group()).putShort((short) 0).putInt(c.fid().volume())
          .putInt((int) c.fid().key()).putInt(c.fid().cookie()).putLong(c.offset()).putInt(c.size())
          .putInt(0).put(c.sha256());
    }
    return b.flip();
  }

  /**
   * Decodes and checks a manifest.
   *
   * @throws IllegalArgumentException naming the first rule the bytes break
   */
  public static Manifest decode(ByteBuffer bytes) {
    ByteBuffer b = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    if (b.remaining() < HEADER_BYTES) {
      throw new IllegalArgumentException("a manifest is at least " + HEADER_BYTES + " bytes, got " + b.remaining());
    }
    int start = b.position();
    if (b.getInt(start) != MAGIC) {
      throw new IllegalArgumentException("bad manifest magic 0x" + Integer.toHexString(b.getInt(start)));
    }
    int version = b.get(start + 4) & 0xFF;
    if (version != VERSION) {
      throw new IllegalArgumentException("manifest version " + version + ", this build reads " + VERSION);
    }
    if (b.get(start + 5) != 0 || b.get(start + 6) != 0 || b.get(start + 7) != 0) {
      throw new IllegalArgumentException("manifest reserved bytes are not zero");
    }
    long size = b.getLong(start + 8);
    long count = Integer.toUnsignedLong(b.getInt(start + 16));
    int chunkSize = b.getInt(start + 20);
    if (size < 0 || count > MAX_CHUNKS || b.remaining() != HEADER_BYTES + count * CHUNK_BYTES) {
      throw new IllegalArgumentException("manifest of " + b.remaining() + " bytes cannot list "
          + count + " chunks of a " + size + "-byte file");
    }
    List<Chunk> chunks = new ArrayList<>((int) count);
    for (int i = 0; i < count; i++) {
      int at = start + HEADER_BYTES + i * CHUNK_BYTES;
      int group = b.getShort(at) & 0xFFFF;
      if (b.getShort(at + 2) != 0 || b.getInt(at + 28) != 0) {
        throw new IllegalArgumentException("manifest chunk " + i + ": reserved bytes are not zero");
      }
      int volume = b.getInt(at + 4);
      long key = Integer.toUnsignedLong(b.getInt(at + 8));
      int cookie = b.getInt(at + 12);
      long offset = b.getLong(at + 16);
      int chunkBytes = b.getInt(at + 24);
      byte[] sha = new byte[32];
      b.get(at + 32, sha);
      Fid fid;
      try {
        fid = new Fid(group, volume, key, cookie);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("manifest chunk " + i + ": " + e.getMessage());
      }
      chunks.add(new Chunk(fid, offset, chunkBytes, sha));
    }
    return new Manifest(size, chunkSize, chunks);
  }

  /** Index of the chunk that holds byte {@code position} of the file (0 <= position < size). */
  public int chunkAt(long position) {
    int lo = 0;
    int hi = chunks.size() - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (chunks.get(mid).offset() <= position) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }
}
