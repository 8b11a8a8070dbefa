package dev.wimg.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * The server's acknowledgement of an upload: the file is durable once this exists.
 *
 * @param fid  the file id, URL-safe text (letters, digits, {@code ,} {@code -} {@code _})
 * @param url  where the file is served, as the server wrote it: {@code /<fid>} on the same server
 *             (see {@link WimgClient#urlOf(String)} for the absolute form)
 * @param size payload bytes stored
 * @param mime media type stored with the file, or null
 * @param etag the strong entity tag the server will send with the file
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record UploadResult(String fid, String url, long size, String mime, String etag) {}
