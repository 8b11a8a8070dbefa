package dev.wimg.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A large file fetched in {@code streams} parallel byte ranges, each written at its place in the
 * target file as it arrives. The ranges are the file's chunks as the server lists them ({@code
 * GET /<fid>?chunks}), and each chunk's SHA-256 is checked as its bytes arrive: a chunk that does
 * not match fails the download, never a file with wrong bytes. (A server that lists none gets
 * ranges of {@link #RANGE_BYTES}, checked by length only.) Every range asks {@code If-Range} with
 * the file's ETag, and must come back as exactly that range ({@code 206} and its
 * {@code Content-Range}), so bytes of two versions are never mixed.
 */
final class ParallelDownload {

  /** Bytes per range request. */
  static final int RANGE_BYTES = 16 << 20;

  private final HttpClient http;
  private final URI url;
  private final String etag;
  private final long size;
  private final Duration timeout;
  private final int streams;
  /** The ranges to fetch {first, last} and their SHA-256 (null when not known), taken in order. */
  private final List<long[]> ranges = new ArrayList<>();
  private final List<byte[]> hashes = new ArrayList<>();
  private final java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();

  ParallelDownload(HttpClient http, URI url, String etag, long size, Duration timeout, int streams) {
    this.http = http;
    this.url = url;
    this.etag = etag;
    this.size = size;
    this.timeout = timeout;
    this.streams = streams;
  }

  /** Fetches the whole file into {@code out} (positional writes; its size is set to the file's). */
  void run(FileChannel out) throws IOException {
    plan();
    ParallelStreams.run(streams, "wimg-download-", "download of " + url, () -> {
      for (int r; (r = next.getAndIncrement()) < ranges.size(); ) {
        fetch(out, ranges.get(r)[0], ranges.get(r)[1], hashes.get(r));
      }
      return null;
    });
    if (out.size() != size) {
      throw new IOException("download of " + url + " holds " + out.size() + " bytes, not " + size);
    }
  }

  /** The ranges: the server's chunk list if it gives one that covers the file, else fixed ranges. */
  private void plan() throws IOException {
    URI list = URI.create(url.toString().replaceFirst("\\?.*$", "") + "?chunks");
    HttpResponse<byte[]> r;
    try {
      r = http.send(HttpRequest.newBuilder(list).timeout(timeout).header("User-Agent", "wimg-client")
          .GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("GET " + list + " interrupted");
    }
    if (r.statusCode() == 200) {
      com.fasterxml.jackson.databind.JsonNode body = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body());
      long at = 0;
      for (com.fasterxml.jackson.databind.JsonNode c : body.path("chunks")) {
        long offset = c.path("offset").asLong(-1);
        long n = c.path("size").asLong(-1);
        if (offset != at || n <= 0) {
          throw new IOException(list + " lists chunks that do not follow each other at " + at);
        }
        ranges.add(new long[] {offset, offset + n - 1});
        hashes.add(java.util.HexFormat.of().parseHex(c.path("sha256").asText()));
        at += n;
      }
      if (!ranges.isEmpty() && at != size) {
        throw new IOException(list + " lists chunks of " + at + " bytes, the file has " + size);
      }
    }
    if (ranges.isEmpty()) {
      for (long from = 0; from < size; from += RANGE_BYTES) {
        ranges.add(new long[] {from, Math.min(size, from + RANGE_BYTES) - 1});
        hashes.add(null);
      }
    }
  }

  private void fetch(FileChannel out, long first, long last, byte[] sha256) throws IOException {
    HttpRequest.Builder request = HttpRequest.newBuilder(url).timeout(timeout)
        .header("User-Agent", "wimg-client").header("Range", "bytes=" + first + "-" + last);
    if (etag != null) {
      request.header("If-Range", etag);
    }
    HttpResponse<InputStream> r;
    try {
      r = http.send(request.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("GET " + url + " interrupted");
    }
    try (InputStream in = r.body()) {
      String range = r.headers().firstValue("Content-Range").orElse("");
      if (r.statusCode() != 206 || !range.equals("bytes " + first + "-" + last + "/" + size)) {
        throw new IOException("GET " + url + " bytes " + first + "-" + last + " answered "
            + r.statusCode() + " " + range + ": not that range of the file");
      }
      byte[] buffer = new byte[1 << 20];
      java.security.MessageDigest digest = sha256 == null ? null : sha256();
      long at = first;
      for (int n; (n = in.read(buffer)) > 0; ) {
        if (at + n > last + 1) {
          throw new IOException("GET " + url + " sent more than bytes " + first + "-" + last);
        }
        if (digest != null) {
          digest.update(buffer, 0, n);
        }
        ByteBuffer b = ByteBuffer.wrap(buffer, 0, n);
        while (b.hasRemaining()) {
          at += out.write(b, at);
        }
      }
      if (at != last + 1) {
        throw new IOException("GET " + url + " bytes " + first + "-" + last + " broke off at " + at);
      }
      if (digest != null && !java.security.MessageDigest.isEqual(digest.digest(), sha256)) {
        throw new IOException("GET " + url + " bytes " + first + "-" + last
            + ": the chunk's SHA-256 is not the one the server lists; the download is dropped");
      }
    }
  }

  private static java.security.MessageDigest sha256() {
    try {
      return java.security.MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
