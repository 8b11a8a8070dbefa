package dev.wimg.storage.internal;

/**
 * The fixed header of a needle record as decoded and checked by {@link NeedleCodec#decodeHeader}.
 * Every field has been bounds-checked; {@link #recordLength()} is the exact on-disk size including
 * the checksum and padding.
 *
 * @param flags        {@link NeedleCodec#FLAG_TOMBSTONE}, {@link NeedleCodec#FLAG_HAS_NAME}, {@link NeedleCodec#FLAG_HAS_MIME}
 * @param metaLength   bytes of the name/mime block, 0..{@value NeedleCodec#MAX_META_LENGTH}
 * @param key          needle key, unsigned 32 bits
 * @param cookie       the random cookie of the fid
 * @param dataLength   payload bytes, 0..{@link Integer#MAX_VALUE}
 * @param lastModified epoch milliseconds (deletion time for a tombstone)
 */
public record NeedleHeader(int flags, int metaLength, long key, int cookie, int dataLength,
                           long lastModified) {

  /** The data is a large file's manifest ({@link NeedleCodec#FLAG_MANIFEST}). */
  public boolean manifest() {
    return (flags & NeedleCodec.FLAG_MANIFEST) != 0;
  }

  public boolean tombstone() {
    return (flags & NeedleCodec.FLAG_TOMBSTONE) != 0;
  }

  /** Bytes from the record start to the start of the payload. */
  public long dataOffset() {
    return NeedleCodec.HEADER_SIZE + metaLength;
  }

  /** Bytes covered by the record checksum: header, meta and data. */
  public long checkedLength() {
    return NeedleCodec.HEADER_SIZE + (long) metaLength + dataLength;
  }

  /** Whole record on disk: header, meta, data, checksum and padding to 8 bytes. */
  public long recordLength() {
    return NeedleCodec.recordLength(metaLength, dataLength);
  }
}
