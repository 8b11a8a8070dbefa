package dev.wimg.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.imaging.internal.JavaImageEngine;
import org.junit.jupiter.api.Test;

/**
 * The pure-Java engine keeps the same time budget as libvips: decoding and encoding are told to
 * stop ({@code ImageReader.abort}) at the deadline and the steps between are checked, so a
 * transform past its budget is a 503 naming it.
 */
class JavaEngineBudgetTest {

  @Test
  void transformPastItsBudgetIsStopped() {
    // 1 ms from the start: decoding 12 megapixels in Java alone takes longer on any machine.
    JavaImageEngine tight = new JavaImageEngine(Limits.defaults().withMaxTransformMillis(1));
    assertThatThrownBy(() -> tight.transform(Pictures.pngBomb(4000, 3000),
        EngineContract.spec("w=2000&blur=5&format=png"), null))
        .isInstanceOf(ImageRequestException.class)
        .hasMessage("the transform ran past its budget of 1 ms and was stopped")
        .extracting(e -> ((ImageRequestException) e).status()).isEqualTo(503);
    // Within the default budget the same transform finishes: the 503 above was the budget's.
    JavaImageEngine normal = new JavaImageEngine(Limits.defaults());
    TransformResult out = normal.transform(Pictures.pngBomb(4000, 3000),
        EngineContract.spec("w=2000&blur=5&format=png"), null);
    assertThat(out.width()).isEqualTo(2000);
  }
}
