package dev.wimg.server.internal.headers;

/**
 * Entity-tag comparison for {@code If-None-Match} and {@code If-Range} (RFC 9110 §8.8.3, §13.1).
 *
 * <p>Header values are scanned, not split on commas: an opaque tag may itself contain a comma.
 * A malformed list matches nothing, so the request is served unconditionally.
 */
public final class EtagMatcher {

  private EtagMatcher() {}

  /**
   * Whether an {@code If-None-Match} value matches {@code etag} under the weak comparison the RFC
   * prescribes for it: {@code *}, or any listed tag with the same opaque value, weak or not.
   */
  public static boolean noneMatchHits(String header, String etag) {
    if (header == null) {
      return false;
    }
    String value = header.strip();
    if (value.equals("*")) {
      return true;
    }
    String ours = opaque(etag);
    boolean hit = false;
    int i = 0;
    int n = value.length();
    boolean expectTag = true;
    while (i < n) {
      char c = value.charAt(i);
      if (c == ' ' || c == '\t') {
        i++;
      } else if (c == ',') {
        expectTag = true;
        i++;
      } else if (!expectTag) {
        return false;
      } else {
        if (c == 'W' && i + 1 < n && value.charAt(i + 1) == '/') {
          i += 2;
        }
        if (i >= n || value.charAt(i) != '"') {
          return false;
        }
        int close = value.indexOf('"', i + 1);
        if (close < 0) {
          return false;
        }
        hit |= close + 1 - i == ours.length() && value.regionMatches(i, ours, 0, ours.length());
        i = close + 1;
        expectTag = false;
      }
    }
    return hit;
  }

  /** Strong comparison for {@code If-Range}: both tags strong and identical. */
  public static boolean strongMatch(String tag, String etag) {
    return tag != null && !tag.startsWith("W/") && !etag.startsWith("W/") && tag.strip().equals(etag);
  }

  private static String opaque(String etag) {
    return etag.startsWith("W/") ? etag.substring(2) : etag;
  }
}
