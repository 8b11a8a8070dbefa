package dev.wimg.cli.internal;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Sizes such as {@code 64m}, {@code 1g}, {@code 512KiB} or {@code 1048576}: a whole number with an
 * optional unit {@code k m g t} (powers of 1024, optionally followed by {@code b} or {@code ib}),
 * or {@code b}. Case-insensitive.
 */
public final class ByteSizeConverter implements ITypeConverter<Long> {

  private static final Pattern SIZE = Pattern.compile("(\\d{1,19})\\s*(?:([kmgt])(?:i?b)?|b)?");
  private static final String UNITS = "kmgt";

  @Override
  public Long convert(String value) {
    return parse(value);
  }

  /**
   * @throws TypeConversionException naming the value and the accepted form
   */
  public static long parse(String value) {
    Matcher m = SIZE.matcher(value.strip().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new TypeConversionException("'" + value + "' is not a size: use a whole number of bytes"
          + " with an optional unit k, m, g or t (powers of 1024), e.g. 256m");
    }
    try {
      long n = Long.parseLong(m.group(1));
      int shift = m.group(2) == null ? 0 : 10 * (UNITS.indexOf(m.group(2).charAt(0)) + 1);
      if (shift > 0 && n > (Long.MAX_VALUE >> shift)) {
        throw new NumberFormatException();
      }
      return n << shift;
    } catch (NumberFormatException e) {
      throw new TypeConversionException("'" + value + "' is too large a size");
    }
  }
}
