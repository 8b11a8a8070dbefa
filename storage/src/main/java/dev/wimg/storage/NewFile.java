package dev.wimg.storage;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * A file to store.
 *
 * @param name         original file name, or null; at most {@value #MAX_NAME_BYTES} UTF-8 bytes
 * @param mime         media type, or null; at most {@value #MAX_MIME_BYTES} UTF-8 bytes
 * @param lastModified epoch milliseconds served as Last-Modified
 * @param data         the bytes, in order; buffers are read from position to limit and not modified
 * @param manifest     {@code data} is a large file's manifest, which lists the chunks that hold
 *                     its bytes (stored as they are; marked so that a read can tell: {@link
 *                     StoredFile#manifest()})
 */
public record NewFile(String name, String mime, long lastModified, List<ByteBuffer> data,
                      boolean manifest) {

  /** Longest name kept, in UTF-8 bytes. */
  public static final int MAX_NAME_BYTES = 255;
  /** Longest media type kept, in UTF-8 bytes. */
  public static final int MAX_MIME_BYTES = 255;
  /** Largest single needle payload: 2 GiB - 1 (the length field is 32 bits, signed in Java). */
  public static final long MAX_DATA_BYTES = Integer.MAX_VALUE;

  public NewFile {
    Objects.requireNonNull(data, "data");
    data = List.copyOf(data);
    if (name != null && name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
      throw new IllegalArgumentException("name must be at most " + MAX_NAME_BYTES + " UTF-8 bytes");
    }
    if (mime != null && mime.getBytes(StandardCharsets.UTF_8).length > MAX_MIME_BYTES) {
      throw new IllegalArgumentException("mime must be at most " + MAX_MIME_BYTES + " UTF-8 bytes");
    }
    long total = 0;
    for (ByteBuffer b : data) {
      total += b.remaining();
    }
    if (total > MAX_DATA_BYTES) {
      throw new IllegalArgumentException("data must be at most " + MAX_DATA_BYTES + " bytes, got " + total);
    }
  }

  /** A file (not a manifest). */
  public NewFile(String name, String mime, long lastModified, List<ByteBuffer> data) {
    this(name, mime, lastModified, data, false);
  }

  public static NewFile of(String name, String mime, byte[] bytes) {
    return new NewFile(name, mime, System.currentTimeMillis(), List.of(ByteBuffer.wrap(bytes)));
  }

  /** Total payload bytes. */
  public long size() {
    long total = 0;
    for (ByteBuffer b : data) {
      total += b.remaining();
    }
    return total;
  }
}
