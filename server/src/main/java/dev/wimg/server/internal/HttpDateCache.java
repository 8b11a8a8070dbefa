package dev.wimg.server.internal;

import io.netty.handler.codec.DateFormatter;
import io.netty.util.AsciiString;
import java.util.Date;

/**
 * The {@code Date} response header, formatted once per second rather than once per response.
 *
 * <p>Implementation notes: one immutable pair in a volatile field; racing event loops may each
 * format the same second once, which is cheaper than coordinating.
 */
public final class HttpDateCache {

  private record Stamp(long epochSecond, AsciiString text) {}

  private volatile Stamp current = new Stamp(-1, AsciiString.EMPTY_STRING);

  /** The current time as an IMF-fixdate (RFC 9110 §5.6.7). */
  public AsciiString now() {
    long millis = System.currentTimeMillis();
    long second = millis / 1000;
    Stamp stamp = current;
    if (stamp.epochSecond != second) {
      stamp = new Stamp(second, AsciiString.cached(DateFormatter.format(new Date(second * 1000))));
      current = stamp;
    }
    return stamp.text;
  }

  /** Formats epoch milliseconds as an IMF-fixdate, truncated to the second. */
  public static String format(long epochMillis) {
    return DateFormatter.format(new Date(Math.floorDiv(epochMillis, 1000) * 1000));
  }

  /** Parses any of the three HTTP date formats; null if {@code text} is null or not a date. */
  public static Long parseMillis(String text) {
    if (text == null) {
      return null;
    }
    Date date = DateFormatter.parseHttpDate(text);
    return date == null ? null : date.getTime();
  }
}
