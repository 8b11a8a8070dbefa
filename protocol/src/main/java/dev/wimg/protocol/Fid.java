package dev.wimg.protocol;

import java.util.HexFormat;

/**
 * A file id: where a stored file lives and the secret that proves the caller was given it.
 *
 * <p>Text form (URL-safe, no escaping needed): {@code <group>-<volume>,<key><cookie>} where
 * {@code group} and {@code volume} are decimal, {@code key} is lower-case hex without leading
 * zeros (at least one digit) and {@code cookie} is exactly 8 lower-case hex digits. Example:
 * {@code 1-3,1f09c2ab3e} is group 1, volume 3, key 0x1f, cookie 0x09c2ab3e.
 *
 * <p>Implementation notes: the location (group, volume, key) is inside the id, as in FastDFS and
 * SeaweedFS, so no per-file metadata is kept anywhere but in the volume itself. The random 32-bit
 * cookie (Haystack) stops ids from being guessed by counting keys; it is stored in the needle
 * header on disk and checked on every read, never kept in memory.
 *
 * @param group  storage group, 1..{@value #MAX_GROUP}
 * @param volume volume id within the group, 1..{@value #MAX_VOLUME}
 * @param key    needle key within the volume, 0..{@value #MAX_KEY}: dense, assigned by the volume
 * @param cookie random 32 bits chosen at upload
 */
public record Fid(int group, int volume, long key, int cookie) {

  /** Largest group number. */
  public static final int MAX_GROUP = 65_535;
  /** Largest volume id. */
  public static final int MAX_VOLUME = 16_777_215;
  /** Largest needle key: keys are unsigned 32-bit slots in a volume's dense index. */
  public static final long MAX_KEY = 0xFFFF_FFFFL;
  /** Longest text form accepted by {@link #parse}; anything longer is rejected before parsing. */
  public static final int MAX_TEXT_LENGTH = 5 + 1 + 8 + 1 + 8 + 8;

  public Fid {
    if (group < 1 || group > MAX_GROUP) {
      throw new IllegalArgumentException("group must be 1.." + MAX_GROUP + ", got " + group);
    }
    if (volume < 1 || volume > MAX_VOLUME) {
      throw new IllegalArgumentException("volume must be 1.." + MAX_VOLUME + ", got " + volume);
    }
    if (key < 0 || key > MAX_KEY) {
      throw new IllegalArgumentException("key must be 0.." + MAX_KEY + ", got " + key);
    }
  }

  /**
   * Parses the text form.
   *
   * @throws IllegalArgumentException naming what is wrong, if {@code text} cannot be a fid
   */
  public static Fid parse(CharSequence text) {
    int n = text.length();
    if (n == 0 || n > MAX_TEXT_LENGTH) {
      throw new IllegalArgumentException("fid length must be 1.." + MAX_TEXT_LENGTH + ", got " + n);
    }
    int dash = -1;
    int comma = -1;
    for (int i = 0; i < n; i++) {
      char c = text.charAt(i);
      if (c == '-' && dash < 0 && comma < 0) {
        dash = i;
      } else if (c == ',' && dash > 0 && comma < 0) {
        comma = i;
      } else if (!isHexDigit(c)) {
        throw new IllegalArgumentException("fid has an unexpected character at " + i + ": " + text);
      }
    }
    if (dash <= 0 || comma <= dash + 1) {
      throw new IllegalArgumentException("fid must look like <group>-<volume>,<key><cookie>: " + text);
    }
    int hexLength = n - comma - 1;
    if (hexLength < 9 || hexLength > 16) {
      throw new IllegalArgumentException(
          "fid key+cookie must be 9..16 hex digits, got " + hexLength + ": " + text);
    }
    long group = decimal(text, 0, dash);
    long volume = decimal(text, dash + 1, comma);
    if (group < 1 || group > MAX_GROUP || volume < 1 || volume > MAX_VOLUME) {
      throw new IllegalArgumentException("fid group or volume out of range: " + text);
    }
    int cookieStart = n - 8;
    long key = HexFormat.fromHexDigitsToLong(text, comma + 1, cookieStart);
    int cookie = HexFormat.fromHexDigits(text, cookieStart, n);
    if (hexLength > 9 && text.charAt(comma + 1) == '0') {
      throw new IllegalArgumentException("fid key has a leading zero: " + text);
    }
    return new Fid((int) group, (int) volume, key, cookie);
  }

  private static boolean isHexDigit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  }

  private static long decimal(CharSequence text, int from, int to) {
    if (to - from > 8) {
      return -1;
    }
    long value = 0;
    for (int i = from; i < to; i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        throw new IllegalArgumentException("fid group and volume must be decimal: " + text);
      }
      value = value * 10 + (c - '0');
    }
    if (to - from > 1 && text.charAt(from) == '0') {
      throw new IllegalArgumentException("fid number has a leading zero: " + text);
    }
    return value;
  }

  @Override
  public String toString() {
    return group + "-" + volume + "," + Long.toHexString(key) + HexFormat.of().toHexDigits(cookie);
  }

  /** Bytes of the binary form: group u16, volume u32, key u32, cookie u32 (in the buffer's order). */
  public static final int BYTES = Short.BYTES + 3 * Integer.BYTES;

  /** Puts the {@value #BYTES}-byte binary form at {@code b}'s position, advancing it. */
  public void putTo(java.nio.ByteBuffer b) {
    b.putShort((short) group).putInt(volume).putInt((int) key).putInt(cookie);
  }

  /**
   * The fid whose binary form is at {@code at} of {@code b} (absolute; the position is untouched).
   *
   * @throws IllegalArgumentException when a field is out of its range
   */
  public static Fid getFrom(java.nio.ByteBuffer b, int at) {
    return new Fid(Short.toUnsignedInt(b.getShort(at)), b.getInt(at + Short.BYTES),
        Integer.toUnsignedLong(b.getInt(at + Short.BYTES + Integer.BYTES)),
        b.getInt(at + Short.BYTES + 2 * Integer.BYTES));
  }
}
