package dev.wimg.server.internal.transform;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC-SHA256 signatures of transform URLs.
 *
 * <p>The signed message is the request path exactly as sent (still percent-encoded, name part
 * included), a {@code ?}, then {@link TransformQuery#signedText()}: for
 * {@code /3,01637037d6/cat.jpg?w=300&format=webp&sig=...} it is
 * {@code /3,01637037d6/cat.jpg?format=webp&w=300}. The signature is the lower-case hex of the
 * 32-byte MAC. Any of the configured keys may have made it (key rotation); comparison is in
 * constant time.
 */
public final class UrlSigner {

  private static final String ALGORITHM = "HmacSHA256";

  private final List<SecretKeySpec> keys;

  public UrlSigner(List<String> keys) {
    this.keys = keys.stream()
        .map(k -> new SecretKeySpec(k.getBytes(StandardCharsets.UTF_8), ALGORITHM))
        .toList();
  }

  /** Whether signatures are required (some key is configured). */
  public boolean enabled() {
    return !keys.isEmpty();
  }

  /** The message signed for a path and query. */
  public static String message(String rawPath, TransformQuery query) {
    return rawPath + "?" + query.signedText();
  }

  /** The hex signature of {@code message} under {@code key}. */
  public static String sign(String key, String message) {
    return HexFormat.of().formatHex(mac(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), ALGORITHM),
        message));
  }

  /** True when {@code signature} is the signature of {@code message} under one of the keys. */
  public boolean verify(String message, String signature) {
    byte[] given;
    try {
      given = HexFormat.of().parseHex(signature);
    } catch (IllegalArgumentException e) {
      return false;
    }
    boolean ok = false;
    for (SecretKeySpec key : keys) {
      ok |= MessageDigest.isEqual(mac(key, message), given);
    }
    return ok;
  }

  private static byte[] mac(SecretKeySpec key, String message) {
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(key);
      return mac.doFinal(message.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }
}
