package dev.wimg.server.internal.headers;

import java.nio.charset.StandardCharsets;

/**
 * {@code Content-Disposition: inline} or {@code attachment} with a file name (RFC 6266), in both forms: {@code filename}
 * with an ASCII stand-in for clients that predate RFC 8187, and {@code filename*} with the exact
 * UTF-8 name percent-encoded. Every byte outside the RFC 8187 attr-char set is encoded, so no name
 * can break out of the header; path separators never reach the stand-in (a client saving under
 * it must not be led into another folder).
 */
public final class ContentDisposition {

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private ContentDisposition() {}

  public static String inline(String name) {
    return of("inline", name);
  }

  /** {@code attachment}: the browser saves the file rather than showing it as this origin. */
  public static String attachment(String name) {
    return name == null || name.isEmpty() ? "attachment" : of("attachment", name);
  }

  private static String of(String disposition, String name) {
    StringBuilder out = new StringBuilder(32 + name.length() * 2);
    out.append(disposition).append("; filename=\"");
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%' && c != '/';
      out.append(plain ? c : '_');
    }
    out.append("\"; filename*=UTF-8''");
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      int v = b & 0xff;
      if (isAttrChar(v)) {
        out.append((char) v);
      } else {
        out.append('%').append(HEX[v >>> 4]).append(HEX[v & 0xf]);
      }
    }
    return out.toString();
  }

  /** RFC 8187 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~". */
  private static boolean isAttrChar(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || "!#$&+-.^_`|~".indexOf(c) >= 0;
  }
}
