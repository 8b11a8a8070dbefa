package dev.wimg.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class FidTest {

  @Property
  void textFormRoundTrips(@ForAll @IntRange(min = 1, max = Fid.MAX_GROUP) int group,
                          @ForAll @IntRange(min = 1, max = Fid.MAX_VOLUME) int volume,
                          @ForAll @LongRange(min = 0, max = Fid.MAX_KEY) long key,
                          @ForAll int cookie) {
    Fid fid = new Fid(group, volume, key, cookie);
    String text = fid.toString();
    assertThat(text).matches("[0-9a-f,\\-]+").hasSizeLessThanOrEqualTo(Fid.MAX_TEXT_LENGTH);
    assertThat(Fid.parse(text)).isEqualTo(fid);
  }

  @Test
  void exampleFromTheJavadoc() {
    assertThat(Fid.parse("1-3,1f09c2ab3e")).isEqualTo(new Fid(1, 3, 0x1f, 0x09c2ab3e));
    assertThat(new Fid(1, 3, 0, 0).toString()).isEqualTo("1-3,000000000");
  }

  @Test
  void malformedTextIsRejectedWithTheReason() {
    assertThatThrownBy(() -> Fid.parse("")).hasMessageContaining("length");
    assertThatThrownBy(() -> Fid.parse("1-3")).hasMessageContaining("<group>-<volume>");
    assertThatThrownBy(() -> Fid.parse("1-3,1f09c2ab")).hasMessageContaining("9..16 hex digits");
    assertThatThrownBy(() -> Fid.parse("1-3,1F09C2AB3E")).hasMessageContaining("unexpected character");
    assertThatThrownBy(() -> Fid.parse("0-3,1f09c2ab3e")).hasMessageContaining("out of range");
    assertThatThrownBy(() -> Fid.parse("01-3,1f09c2ab3e")).hasMessageContaining("leading zero");
    assertThatThrownBy(() -> Fid.parse("1-3,01f09c2ab3e")).hasMessageContaining("leading zero");
    assertThatThrownBy(() -> Fid.parse("../etc/passwd")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Fid.parse("1-3,1f09c2ab3e,")).isInstanceOf(IllegalArgumentException.class);
  }
}
