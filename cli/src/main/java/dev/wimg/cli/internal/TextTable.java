package dev.wimg.cli.internal;

import java.util.List;
import java.util.Locale;

/**
 * The pieces of the CLI's tables ({@link ClusterTable}, {@link TaskTable}): columns aligned with
 * two spaces between them, sizes in powers of 1024, and text from a server made safe to print.
 */
final class TextTable {

  /** Spaces between columns. */
  private static final String GAP = "  ";
  private static final String[] BYTE_UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

  private TextTable() {}

  /**
   * Appends {@code rows}, the first being the header, each column as wide as its widest cell;
   * columns marked in {@code right} (numbers) are aligned right. Lines end with a newline and
   * carry no trailing spaces.
   */
  static void appendAligned(List<String[]> rows, boolean[] right, StringBuilder out) {
    int[] width = new int[right.length];
    for (String[] row : rows) {
      for (int c = 0; c < row.length; c++) {
        width[c] = Math.max(width[c], row[c].length());
      }
    }
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int c = 0; c < row.length; c++) {
        String pad = " ".repeat(width[c] - row[c].length());
        line.append(c == 0 ? "" : GAP).append(right[c] ? pad + row[c] : row[c] + pad);
      }
      out.append(line.toString().stripTrailing()).append('\n');
    }
  }

  /** {@code 117.7 MiB}: one decimal from KiB up; {@code -} for unknown (negative). */
  static String bytes(long n) {
    if (n < 0) {
      return "-";
    }
    if (n < 1024) {
      return n + " B";
    }
    int unit = 0;
    double value = n;
    while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
      value /= 1024;
      unit++;
    }
    return String.format(Locale.ROOT, "%.1f %s", value, BYTE_UNITS[unit]);
  }

  /** Server text made safe for a terminal: control characters become {@code ?}; null is {@code -}. */
  static String printable(String s) {
    if (s == null) {
      return "-";
    }
    StringBuilder b = new StringBuilder(s.length());
    s.codePoints().forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? '?' : c));
    return b.toString();
  }
}
