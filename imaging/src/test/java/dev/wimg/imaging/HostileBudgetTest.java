package dev.wimg.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.testsupport.RequiresLibvips;
import dev.wimg.imaging.internal.VipsEngine;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * A transform that runs past its time budget is stopped inside libvips and answered with a 503
 * naming the budget; the next transform is not affected.
 */
@RequiresLibvips
class HostileBudgetTest {

  @Test
  void transformPastItsBudgetIsStoppedInsideLibvips() {
    // 1 ms from the start of the transform: decoding 12 megapixels alone takes longer, on any
    // machine, so the budget is always passed while pixels are still being computed.
    VipsEngine tight = VipsEngine.create(Limits.defaults().withMaxTransformMillis(1));
    ByteBuffer large = Pictures.pngBomb(4000, 3000);
    assertThatThrownBy(() -> tight.transform(large, EngineContract.spec("w=2000&blur=5&format=png"), null))
        .isInstanceOf(ImageRequestException.class)
        .hasMessage("the transform ran past its budget of 1 ms and was stopped")
        .extracting(e -> ((ImageRequestException) e).status()).isEqualTo(503);
  }

  @Test
  void transformWithinItsBudgetIsNotStoppedAfterAnotherWas() {
    VipsEngine tight = VipsEngine.create(Limits.defaults().withMaxTransformMillis(1));
    assertThatThrownBy(() -> tight.transform(Pictures.pngBomb(4000, 3000),
        EngineContract.spec("w=2000&blur=5&format=png"), null))
        .hasMessageContaining("budget");
    // libvips' settings are per process: the default engine made last sets them back.
    VipsEngine normal = VipsEngine.create(Limits.defaults());
    TransformResult out = normal.transform(Pictures.heap("painting.jpg"), EngineContract.spec("w=100"), null);
    assertThat(out.width()).isEqualTo(100);
  }
}
