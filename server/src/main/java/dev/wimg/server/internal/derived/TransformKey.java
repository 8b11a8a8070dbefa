package dev.wimg.server.internal.derived;

import dev.wimg.imaging.AcceptHeader;
import dev.wimg.imaging.ImageFormat;
import dev.wimg.imaging.TransformSpec;
import dev.wimg.protocol.Fid;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Set;

/**
 * What identifies a derived picture: the original, the canonical transform, and for
 * {@code format=auto} the format the client's {@code Accept} makes the engine pick (the only part
 * of {@code Accept} the engine looks at). Two requests with equal keys get byte-identical answers.
 *
 * @param original  the original's fid (cookie included, so a wrong cookie never hits)
 * @param canonical {@link TransformSpec#canonical()}
 * @param variant   empty unless {@code format=auto}; then {@code auto:w} (WebP), {@code auto:a}
 *                  (AVIF) or {@code auto:} (as the source); see {@link #variant}
 */
public record TransformKey(Fid original, String canonical, String variant) {

  /** Bytes of the SHA-256 of {@link #text()} kept in the ETag: 64 bits tell keys of one original apart. */
  private static final int ETAG_HASH_BYTES = 8;

  /** The key of {@code spec} on {@code original} for a request with this {@code Accept}. */
  public static TransformKey of(Fid original, TransformSpec spec, String accept, Set<String> writable) {
    String variant = spec.format() == TransformSpec.OutputFormat.AUTO ? variant(accept, writable) : "";
    return new TransformKey(original, spec.canonical(), variant);
  }

  /**
   * The variant of a {@code format=auto} key for a request with this {@code Accept}: the format
   * the engine will pick ({@link AcceptHeader#autoFormat}), {@code auto:w} for WebP, {@code auto:a}
   * for AVIF, {@code auto:} for neither (the output then follows the source). Requests that get
   * the same bytes share one key, one computation and one ETag.
   */
  public static String variant(String accept, Set<String> writable) {
    ImageFormat chosen = AcceptHeader.autoFormat(accept, format -> writable.contains(format.token()));
    if (chosen == ImageFormat.WEBP) {
      return "auto:w";
    }
    return chosen == ImageFormat.AVIF ? "auto:a" : "auto:";
  }

  /** Whether the response varies with {@code Accept}. */
  public boolean variesWithAccept() {
    return !variant.isEmpty();
  }

  /** {@code canonical|variant}: the key without the original, as stored in the derived index. */
  public String text() {
    return canonical + "|" + variant;
  }

  /** Rebuilds a key from {@link #text()}. */
  static TransformKey fromText(Fid original, String text) {
    int bar = text.lastIndexOf('|');
    if (bar < 0) {
      throw new IllegalArgumentException("key text has no '|': " + text);
    }
    return new TransformKey(original, text.substring(0, bar), text.substring(bar + 1));
  }

  /**
   * The strong ETag of this derived picture: the original's checksum (its own ETag) and a hash of
   * {@link #text()}, {@code "1a2b3c4d-0011223344556677"}. Stable across restarts and engines'
   * runs, known before anything is computed.
   */
  public String etag(int originalChecksum) {
    byte[] hash;
    try {
      hash = MessageDigest.getInstance("SHA-256").digest(text().getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
    return "\"" + Integer.toHexString(originalChecksum) + "-"
        + HexFormat.of().formatHex(hash, 0, ETAG_HASH_BYTES) + "\"";
  }
}
