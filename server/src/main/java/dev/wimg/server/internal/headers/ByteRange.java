package dev.wimg.server.internal.headers;

/**
 * The {@code Range} request header (RFC 9110 §14.2), resolved against a representation length.
 *
 * <p>Only a single {@code bytes} range is honoured. Everything else the RFC lets a server ignore
 * is ignored, and the full representation is served with 200: other units, several ranges (a
 * multipart/byteranges answer buys little for pictures), and syntax errors including a last
 * position before the first.
 *
 * <pre>
 *   Range: bytes=a-b    bytes a..min(b, size-1)        416 if a &gt;= size
 *   Range: bytes=a-     bytes a..size-1                416 if a &gt;= size
 *   Range: bytes=-n     the last min(n, size) bytes    416 if n == 0 or size == 0
 * </pre>
 */
public sealed interface ByteRange {

  /** No usable Range header: serve the whole representation. */
  record Ignored() implements ByteRange {}

  /** Serve bytes {@code first..last} inclusive with 206. */
  record Satisfiable(long first, long last) implements ByteRange {
    public long length() {
      return last - first + 1;
    }

    /** The Content-Range of the 206 for a representation of {@code size} bytes. */
    public String contentRange(long size) {
      return "bytes " + first + "-" + last + "/" + size;
    }
  }

  /** No byte of the range exists: 416 with {@code Content-Range: bytes *}{@code /size}. */
  record Unsatisfiable() implements ByteRange {}

  ByteRange IGNORED = new Ignored();
  ByteRange UNSATISFIABLE = new Unsatisfiable();

  /** Longest digit string parsed exactly; longer ones saturate to {@link Long#MAX_VALUE}. */
  int MAX_EXACT_DIGITS = 18;

  /**
   * Resolves {@code header} (the Range value, or null) against {@code size} bytes.
   */
  static ByteRange parse(String header, long size) {
    if (header == null) {
      return IGNORED;
    }
    String value = header.strip();
    String unit = "bytes=";
    if (!value.regionMatches(true, 0, unit, 0, unit.length())) {
      return IGNORED;
    }
    String spec = value.substring(unit.length()).strip();
    if (spec.indexOf(',') >= 0) {
      return IGNORED;
    }
    int dash = spec.indexOf('-');
    if (dash < 0) {
      return IGNORED;
    }
    String firstText = spec.substring(0, dash);
    String lastText = spec.substring(dash + 1);
    if (firstText.isEmpty()) {
      long suffix = digits(lastText);
      if (suffix < 0) {
        return IGNORED;
      }
      if (suffix == 0 || size == 0) {
        return UNSATISFIABLE;
      }
      return new Satisfiable(Math.max(0, size - suffix), size - 1);
    }
    long first = digits(firstText);
    if (first < 0) {
      return IGNORED;
    }
    long last;
    if (lastText.isEmpty()) {
      last = Long.MAX_VALUE;
    } else {
      last = digits(lastText);
      if (last < 0 || last < first) {
        return IGNORED;
      }
    }
    if (first >= size) {
      return UNSATISFIABLE;
    }
    return new Satisfiable(first, Math.min(last, size - 1));
  }

  /** Parses 1DIGIT+; -1 if {@code text} is not that; saturates instead of overflowing. */
  private static long digits(String text) {
    if (text.isEmpty()) {
      return -1;
    }
    long value = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      if (i < MAX_EXACT_DIGITS) {
        value = value * 10 + (c - '0');
      } else {
        value = Long.MAX_VALUE;
      }
    }
    return value;
  }
}
