package dev.wimg.storage.internal;

import java.nio.ByteBuffer;

/**
 * A needle decoded and fully verified (header checksum, record checksum, meta block, padding).
 *
 * @param header   the checked header
 * @param name     original name or null
 * @param mime     media type or null
 * @param data     the payload, read-only, position 0; a view of the bytes it was decoded from
 * @param checksum CRC32C of header, meta and data as stored in the record
 */
public record Needle(NeedleHeader header, String name, String mime, ByteBuffer data, int checksum) {}
