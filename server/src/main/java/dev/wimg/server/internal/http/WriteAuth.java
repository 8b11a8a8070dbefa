package dev.wimg.server.internal.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The write key check for POST and DELETE: {@code Authorization: Bearer <key>} (RFC 6750).
 *
 * <p>Implementation notes: the presented token and the key are compared as SHA-256 digests with
 * {@link MessageDigest#isEqual}, so that the time taken reveals neither a matching prefix nor the
 * key's length.
 */
public final class WriteAuth {

  private static final String BEARER = "Bearer ";

  private final byte[] keyDigest;

  private WriteAuth(byte[] keyDigest) {
    this.keyDigest = keyDigest;
  }

  /** A check for {@code key}, or one that lets everything through when {@code key} is null. */
  public static WriteAuth forKey(String key) {
    return new WriteAuth(key == null ? null : sha256(key));
  }

  /** Whether a key is configured at all. */
  public boolean required() {
    return keyDigest != null;
  }

  /** Whether {@code request} may write. */
  public boolean permits(HttpRequest request) {
    if (keyDigest == null) {
      return true;
    }
    String header = request.headers().get(HttpHeaderNames.AUTHORIZATION);
    if (header == null || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return false;
    }
    String token = header.substring(BEARER.length()).strip();
    return MessageDigest.isEqual(keyDigest, sha256(token));
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
