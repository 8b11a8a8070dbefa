package dev.wimg.server.internal.http;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The path and query of a request target (RFC 9112 §3.2): origin-form {@code /path?query} or
 * absolute-form {@code http://host/path?query}. Nothing is decoded here except on request.
 *
 * @param path  the raw path, starting with {@code /}
 * @param query the raw query without {@code ?}, or null
 */
public record RequestTarget(String path, String query) {

  /**
   * Splits a request target.
   *
   * @throws IllegalArgumentException if it is neither origin-form nor absolute-form
   */
  public static RequestTarget parse(String uri) {
    String rest = uri;
    int scheme = rest.indexOf("://");
    if (scheme > 0 && rest.charAt(0) != '/') {
      int slash = rest.indexOf('/', scheme + 3);
      rest = slash < 0 ? "/" : rest.substring(slash);
    }
    if (rest.isEmpty() || rest.charAt(0) != '/') {
      throw new IllegalArgumentException("request target must be a path starting with /");
    }
    int fragment = rest.indexOf('#');
    if (fragment >= 0) {
      rest = rest.substring(0, fragment);
    }
    int q = rest.indexOf('?');
    return q < 0 ? new RequestTarget(rest, null) : new RequestTarget(rest.substring(0, q), rest.substring(q + 1));
  }

  /**
   * The first value of a query parameter, percent- and {@code +}-decoded as form data, or null.
   *
   * @throws IllegalArgumentException if the value is not valid percent-encoded UTF-8
   */
  public String queryParameter(String name) {
    if (query == null) {
      return null;
    }
    for (String pair : query.split("&", -1)) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      if (key.equals(name)) {
        return eq < 0 ? "" : percentDecode(pair.substring(eq + 1), true);
      }
    }
    return null;
  }

  /**
   * Decodes {@code %XX} escapes as UTF-8 (and {@code +} as a space when {@code plusIsSpace}).
   *
   * <p>Implementation notes: not Netty's {@code QueryStringDecoder.decodeComponent}, which decodes
   * escapes that are not UTF-8 to U+FFFD (a file name {@code %FF.jpg} would be stored as
   * {@code \uFFFD.jpg}) where this answers 400, and whose public form always reads {@code +} as a
   * space, wrong for the name segment of a path. Like it, text without an escape is returned as
   * is, without copying (every GET with a name segment passes here).
   *
   * @throws IllegalArgumentException on a truncated escape, a non-hex digit or invalid UTF-8
   */
  public static String percentDecode(String text, boolean plusIsSpace) {
    if (text.indexOf('%') < 0 && (!plusIsSpace || text.indexOf('+') < 0)) {
      return text;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '%') {
        if (i + 2 >= text.length()) {
          throw new IllegalArgumentException("truncated percent escape in: " + text);
        }
        int hi = Character.digit(text.charAt(i + 1), 16);
        int lo = Character.digit(text.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          throw new IllegalArgumentException("bad percent escape at " + i + " in: " + text);
        }
        bytes.write(hi << 4 | lo);
        i += 2;
      } else if (c == '+' && plusIsSpace) {
        bytes.write(' ');
      } else if (c < 0x80) {
        bytes.write(c);
      } else {
        byte[] encoded = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        bytes.write(encoded, 0, encoded.length);
      }
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes.toByteArray()))
          .toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("percent escapes are not valid UTF-8 in: " + text, e);
    }
  }
}
