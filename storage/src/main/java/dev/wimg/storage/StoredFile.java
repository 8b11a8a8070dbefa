package dev.wimg.storage;

import dev.wimg.protocol.Fid;
import java.nio.ByteBuffer;

/**
 * A stored file as read back: metadata plus a read-only view of its bytes.
 *
 * <p>{@link #data()} is a slice of the memory-mapped volume whose CRC32C was verified by the read
 * that returned this object. The view stays valid while this object is reachable, also across a
 * vacuum of its volume (the old mapping is released only when no reader holds it).
 *
 * @param fid          the id it was read under
 * @param name         original name or null
 * @param mime         media type or null
 * @param lastModified epoch milliseconds
 * @param checksum     CRC32C of the whole needle record; stable for a fid, used for the ETag
 * @param data         read-only bytes, position 0, limit = size
 * @param manifest     {@code data} is a large file's manifest ({@link NewFile#manifest()}), not
 *                     the file's bytes
 */
public record StoredFile(Fid fid, String name, String mime, long lastModified, int checksum,
                         ByteBuffer data, boolean manifest) {

  /** A file (not a manifest). */
  public StoredFile(Fid fid, String name, String mime, long lastModified, int checksum, ByteBuffer data) {
    this(fid, name, mime, lastModified, checksum, data, false);
  }

  public long size() {
    return data.remaining();
  }

  /** Strong entity tag: the content under a fid never changes. */
  public String etag() {
    return "\"" + Integer.toHexString(checksum) + "\"";
  }
}
