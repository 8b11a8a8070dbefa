package dev.wimg.server.internal.headers;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.DateFormatter;
import java.util.Date;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HttpDateCacheTest {

  static String netty(long millis) {
    return DateFormatter.format(new Date(Math.floorDiv(millis, 1000) * 1000));
  }

  /** From 1583 on: before it Netty's formatter switches to the Julian calendar, HTTP dates do not. */
  @Test
  void formatWritesTheSameImfFixdateAsNettyForKnownAndRandomInstants() {
    assertThat(HttpDateCache.format(784_111_777_000L).toString()).isEqualTo("Sun, 06 Nov 1994 08:49:37 GMT");
    long[] edges = {0, -1, 951_782_400_000L, 951_868_799_999L, 4_107_542_400_000L, 253_402_300_799_000L,
        1_709_164_800_000L};
    for (long millis : edges) {
      assertThat(HttpDateCache.format(millis).toString()).as("%d", millis).isEqualTo(netty(millis));
    }
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 100_000; i++) {
      long millis = random.nextLong(-12_212_553_600_000L, 253_402_300_800_000L);
      assertThat(HttpDateCache.format(millis).toString()).as("%d", millis).isEqualTo(netty(millis));
    }
  }
}
