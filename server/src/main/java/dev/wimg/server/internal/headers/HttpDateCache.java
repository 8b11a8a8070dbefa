package dev.wimg.server.internal.headers;

import io.netty.handler.codec.DateFormatter;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
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

  /** {@code "Sun, 06 Nov 1994 08:49:37 GMT"}: 29 ASCII bytes. */
  private static final int IMF_FIXDATE_BYTES = 29;
  private static final byte[] DAY_NAMES = "SunMonTueWedThuFriSat".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] MONTH_NAMES = "JanFebMarAprMayJunJulAugSepOctNovDec".getBytes(StandardCharsets.US_ASCII);
  /** Days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar. */
  private static final long EPOCH_DAY_OFFSET = 719_468;
  /** Days in a 400-year Gregorian era. */
  private static final long DAYS_PER_ERA = 146_097;
  /** Seconds in a day. */
  private static final long SECONDS_PER_DAY = 86_400;

  /**
   * Formats epoch milliseconds as an IMF-fixdate (RFC 9110 section 5.6.7), truncated to the
   * second: the same text as Netty's {@link DateFormatter}, written straight into the 29 bytes of
   * an {@link AsciiString} because every file response carries one (Last-Modified).
   */
  public static AsciiString format(long epochMillis) {
    long seconds = Math.floorDiv(epochMillis, 1000);
    long days = Math.floorDiv(seconds, SECONDS_PER_DAY);
    int secondOfDay = (int) Math.floorMod(seconds, SECONDS_PER_DAY);
    // civil date from a day count: eras of 400 years starting on March 1st
    long z = days + EPOCH_DAY_OFFSET;
    long era = Math.floorDiv(z, DAYS_PER_ERA);
    long dayOfEra = z - era * DAYS_PER_ERA;
    long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365;
    long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
    long monthIndex = (5 * dayOfYear + 2) / 153;
    int day = (int) (dayOfYear - (153 * monthIndex + 2) / 5 + 1);
    int month = (int) (monthIndex < 10 ? monthIndex + 3 : monthIndex - 9);
    long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
    if (year < 0 || year > 9999) {
      return new AsciiString(DateFormatter.format(new Date(seconds * 1000)));
    }
    int weekday = (int) Math.floorMod(days + 4, 7);
    byte[] out = new byte[IMF_FIXDATE_BYTES];
    System.arraycopy(DAY_NAMES, weekday * 3, out, 0, 3);
    out[3] = ',';
    out[4] = ' ';
    twoDigits(out, 5, day);
    out[7] = ' ';
    System.arraycopy(MONTH_NAMES, (month - 1) * 3, out, 8, 3);
    out[11] = ' ';
    twoDigits(out, 12, (int) (year / 100));
    twoDigits(out, 14, (int) (year % 100));
    out[16] = ' ';
    twoDigits(out, 17, secondOfDay / 3600);
    out[19] = ':';
    twoDigits(out, 20, secondOfDay / 60 % 60);
    out[22] = ':';
    twoDigits(out, 23, secondOfDay % 60);
    out[25] = ' ';
    out[26] = 'G';
    out[27] = 'M';
    out[28] = 'T';
    return new AsciiString(out, false);
  }

  private static void twoDigits(byte[] out, int at, int value) {
    out[at] = (byte) ('0' + value / 10);
    out[at + 1] = (byte) ('0' + value % 10);
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
