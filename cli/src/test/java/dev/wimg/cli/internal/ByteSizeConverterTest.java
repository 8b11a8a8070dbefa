package dev.wimg.cli.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

class ByteSizeConverterTest {

  @Test
  void unitsArePowersOf1024AndCaseInsensitive() {
    assertThat(ByteSizeConverter.parse("0")).isZero();
    assertThat(ByteSizeConverter.parse("1048576")).isEqualTo(1L << 20);
    assertThat(ByteSizeConverter.parse("512k")).isEqualTo(512L << 10);
    assertThat(ByteSizeConverter.parse("64m")).isEqualTo(64L << 20);
    assertThat(ByteSizeConverter.parse("64M")).isEqualTo(64L << 20);
    assertThat(ByteSizeConverter.parse("1g")).isEqualTo(1L << 30);
    assertThat(ByteSizeConverter.parse("1GiB")).isEqualTo(1L << 30);
    assertThat(ByteSizeConverter.parse("2 tb")).isEqualTo(2L << 40);
    assertThat(ByteSizeConverter.parse("100b")).isEqualTo(100);
  }

  @Test
  void malformedSizesNameTheAcceptedForm() {
    for (String bad : new String[] {"", "m", "-1", "1.5g", "1x", "1 mm", "0x10"}) {
      assertThatThrownBy(() -> ByteSizeConverter.parse(bad)).as(bad)
          .isInstanceOf(TypeConversionException.class)
          .hasMessage("'" + bad + "' is not a size: use a whole number of bytes with an optional unit"
              + " k, m, g or t (powers of 1024), e.g. 256m");
    }
  }

  @Test
  void sizesBeyondALongAreRejected() {
    assertThatThrownBy(() -> ByteSizeConverter.parse("8388608t"))
        .isInstanceOf(TypeConversionException.class).hasMessage("'8388608t' is too large a size");
    assertThat(ByteSizeConverter.parse("8388607t")).isEqualTo(8388607L << 40);
    assertThatThrownBy(() -> ByteSizeConverter.parse("9999999999999999999"))
        .isInstanceOf(TypeConversionException.class).hasMessage("'9999999999999999999' is too large a size");
  }
}
