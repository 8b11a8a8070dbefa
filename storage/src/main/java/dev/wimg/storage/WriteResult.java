package dev.wimg.storage;

import dev.wimg.protocol.Fid;

/**
 * The acknowledgement of a write: returned only once the needle is durable under the store's
 * {@link FsyncPolicy}.
 *
 * @param fid      the new file's id
 * @param size     payload bytes
 * @param checksum CRC32C of the needle record (see {@link StoredFile#etag()})
 */
public record WriteResult(Fid fid, long size, int checksum) {

  public String etag() {
    return "\"" + Integer.toHexString(checksum) + "\"";
  }
}
