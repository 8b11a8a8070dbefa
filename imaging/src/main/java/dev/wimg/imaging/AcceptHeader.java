package dev.wimg.imaging;

import java.util.Locale;
import java.util.function.Predicate;

/**
 * The one rule for reading an HTTP {@code Accept} header when {@code format=auto} picks the output
 * format. The engine (choosing the format) and the server (keying cached results by it) must agree,
 * so both call this.
 */
public final class AcceptHeader {

  /** Longest Accept header examined, in characters; the rest is ignored. */
  public static final int MAX_LENGTH = 4096;

  private AcceptHeader() {}

  /**
   * The format {@code format=auto} picks for this {@code Accept}: WebP when it is listed and the
   * engine {@code writes} it, else AVIF likewise, else null (the output then follows the source). WebP
   * wins because it encodes about ten times faster than AVIF at thumbnail sizes, and every
   * browser that accepts AVIF also accepts WebP.
   */
  public static ImageFormat autoFormat(String accept, Predicate<ImageFormat> writes) {
    if (writes.test(ImageFormat.WEBP) && listsExplicitly(accept, ImageFormat.WEBP.mime())) {
      return ImageFormat.WEBP;
    }
    if (writes.test(ImageFormat.AVIF) && listsExplicitly(accept, ImageFormat.AVIF.mime())) {
      return ImageFormat.AVIF;
    }
    return null;
  }

  /**
   * True when {@code accept} lists {@code mime} explicitly with a non-zero quality (RFC 9110
   * §12.5.1). Wildcards ({@code image/*}, {@code *}{@code /*}) do not count: browsers send them for
   * formats they cannot show.
   */
  public static boolean listsExplicitly(String accept, String mime) {
    if (accept == null) {
      return false;
    }
    String header = accept.length() > MAX_LENGTH ? accept.substring(0, MAX_LENGTH) : accept;
    for (String range : header.split(",")) {
      String[] parts = range.split(";");
      if (!parts[0].trim().toLowerCase(Locale.ROOT).equals(mime)) {
        continue;
      }
      boolean allowed = true;
      for (int i = 1; i < parts.length; i++) {
        String param = parts[i].trim().toLowerCase(Locale.ROOT);
        if (param.startsWith("q=")) {
          allowed = positiveQuality(param.substring(2).trim());
        }
      }
      if (allowed) {
        return true;
      }
    }
    return false;
  }

  private static boolean positiveQuality(String q) {
    return q.matches("(0(\\.[0-9]{0,3})?|1(\\.0{0,3})?)") && Double.parseDouble(q) > 0;
  }
}
