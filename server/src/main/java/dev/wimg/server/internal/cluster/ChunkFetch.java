package dev.wimg.server.internal.cluster;

import dev.wimg.protocol.Fid;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Map;

/**
 * The one way a storage node fetches a chunk from another node: {@code GET /<chunk fid>}, its
 * length and SHA-256 checked before any byte is used. A large file's chunk in another group
 * ({@link SpreadChunks}) and a distribution task's piece (from a peer's pinned copy or from the
 * file's group) both come this way.
 */
public final class ChunkFetch {

  /** A fetch that failed, with what the node answered or why no answer came. */
  public static final class FetchException extends IOException {
    private final boolean refused;

    FetchException(String message, boolean refused) {
      super(message);
      this.refused = refused;
    }

    /** The node answered, but not with the chunk (a status, a wrong length or hash): not a network failure. */
    public boolean refused() {
      return refused;
    }
  }

  private final HttpClient http;
  private final Duration timeout;

  public ChunkFetch(HttpClient http, Duration timeout) {
    this.http = http;
    this.timeout = timeout;
  }

  /**
   * The chunk's bytes from {@code node}.
   *
   * @param headers request headers to send (the cluster key, the task), may be empty
   * @throws FetchException when the node does not answer with exactly these bytes
   * @throws InterruptedIOException when interrupted
   */
  public byte[] fetch(URI node, Fid fid, int size, byte[] sha256, Map<String, String> headers) throws IOException {
    HttpRequest.Builder request = HttpRequest.newBuilder(node.resolve("/" + fid)).timeout(timeout).GET();
    headers.forEach(request::header);
    HttpResponse<byte[]> r;
    try {
      r = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("fetching chunk " + fid + " from " + node + " interrupted");
    } catch (IOException e) {
      throw new FetchException(node + ": " + e, false);
    }
    if (r.statusCode() != 200) {
      throw new FetchException(node + " answered " + r.statusCode(), true);
    }
    if (r.body().length != size) {
      throw new FetchException(node + " sent " + r.body().length + " bytes, not " + size, true);
    }
    if (!MessageDigest.isEqual(sha256(r.body()), sha256)) {
      throw new FetchException(node + " sent bytes whose SHA-256 is not the manifest's", true);
    }
    return r.body();
  }

  static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
