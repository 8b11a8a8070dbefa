package dev.wimg.server.internal.headers;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EtagMatcherTest {

  static final String ETAG = "\"1a2b\"";

  @ParameterizedTest
  @ValueSource(strings = {"\"1a2b\"", "W/\"1a2b\"", "*", " * ", "\"x\", \"1a2b\"", "\"x\",W/\"1a2b\"",
      "\"a,b\", \"1a2b\"", "\t\"1a2b\""})
  void ifNoneMatchHitsByWeakComparison(String header) {
    assertThat(EtagMatcher.noneMatchHits(header, ETAG)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"\"1a2\"", "\"1a2b", "1a2b", "\"1a2b\"x", "\"x\", \"1A2B\"", "", "W/1a2b", "\"1a2b,\""})
  void ifNoneMatchMissesOtherOrMalformedTags(String header) {
    assertThat(EtagMatcher.noneMatchHits(header, ETAG)).isFalse();
  }

  @Test
  void absentIfNoneMatchMisses() {
    assertThat(EtagMatcher.noneMatchHits(null, ETAG)).isFalse();
  }

  @Test
  void ifRangeNeedsTheSameStrongTag() {
    assertThat(EtagMatcher.strongMatch("\"1a2b\"", ETAG)).isTrue();
    assertThat(EtagMatcher.strongMatch("W/\"1a2b\"", ETAG)).isFalse();
    assertThat(EtagMatcher.strongMatch("\"other\"", ETAG)).isFalse();
    assertThat(EtagMatcher.strongMatch(null, ETAG)).isFalse();
  }
}
