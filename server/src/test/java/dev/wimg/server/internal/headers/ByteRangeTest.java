package dev.wimg.server.internal.headers;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ByteRangeTest {

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "bytes=0-0        | 0   | 0",
      "bytes=2-5        | 2   | 5",
      "bytes=2-         | 2   | 99",
      "bytes=-1         | 99  | 99",
      "bytes=-100       | 0   | 99",
      "bytes=-5000      | 0   | 99",
      "bytes=90-200     | 90  | 99",
      "BYTES=1-2        | 1   | 2",
      "bytes=99-99      | 99  | 99",
      "bytes=0-99999999999999999999999 | 0 | 99",
  })
  void singleRangesResolveAgainstTheSize(String header, long first, long last) {
    assertThat(ByteRange.parse(header, 100)).isEqualTo(new ByteRange.Satisfiable(first, last));
  }

  @ParameterizedTest
  @ValueSource(strings = {"bytes=100-", "bytes=100-200", "bytes=-0", "bytes=99999999999999999999-"})
  void rangesWithNoByteInTheFileAreUnsatisfiable(String header) {
    assertThat(ByteRange.parse(header, 100)).isInstanceOf(ByteRange.Unsatisfiable.class);
  }

  @Test
  void everyRangeOfAnEmptyFileIsUnsatisfiable() {
    assertThat(ByteRange.parse("bytes=0-", 0)).isInstanceOf(ByteRange.Unsatisfiable.class);
    assertThat(ByteRange.parse("bytes=-5", 0)).isInstanceOf(ByteRange.Unsatisfiable.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "bytes=", "bytes=-", "bytes=5-2", "bytes=a-1", "bytes=1-b", "items=0-1",
      "bytes=0-1,3-4", "bytes 0-1", "bytes=0x1-2", "bytes=--1", "bytes=1--2", "bytes= 1 - 2"})
  void unusableHeadersAreIgnored(String header) {
    assertThat(ByteRange.parse(header, 100)).isInstanceOf(ByteRange.Ignored.class);
  }

  @Test
  void absentHeaderIsIgnored() {
    assertThat(ByteRange.parse(null, 100)).isInstanceOf(ByteRange.Ignored.class);
  }

  @Test
  void lengthCountsBothEnds() {
    assertThat(new ByteRange.Satisfiable(2, 5).length()).isEqualTo(4);
  }
}
