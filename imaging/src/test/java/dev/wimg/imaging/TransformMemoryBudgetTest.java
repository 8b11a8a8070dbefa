package dev.wimg.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.imaging.internal.VipsEngine;
import dev.wimg.testsupport.RequiresLibvips;
import org.junit.jupiter.api.Test;

/**
 * A transform reserves the working memory its source needs, estimated from the header: a source
 * libvips must decode whole (here an interlaced PNG) is counted at a multiple of its decoded size,
 * and one whose estimate alone passes {@link Limits#maxTransformMemory()} is refused before a pixel
 * is decoded, with a 422 naming the numbers. The same pixels not interlaced are read line by line
 * and pass.
 */
@RequiresLibvips
class TransformMemoryBudgetTest {

  /** 4000 × 4000 RGB: 48 MB decoded, estimated at 24 MB line by line and 120 MB interlaced. */
  private static final int SIDE = 4000;
  private static final long BUDGET = 64L << 20;

  @Test
  void interlacedSourcePastTheBudgetIsRefusedAndTheSamePixelsNotInterlacedPass() {
    VipsEngine engine = VipsEngine.create(Limits.defaults().withMaxTransformMemory(BUDGET));

    TransformResult plain = engine.transform(Pictures.blackRgbPng(SIDE, SIDE, false),
        EngineContract.spec("w=100&format=png"), null);
    assertThat(plain.width()).isEqualTo(100);

    assertThatThrownBy(() -> engine.transform(Pictures.blackRgbPng(SIDE, SIDE, true),
        EngineContract.spec("w=100&format=png"), null))
        .isInstanceOf(ImageRequestException.class)
        .hasMessage("the PNG 4000x4000 source needs an estimated 120 MB of working memory to"
            + " transform, over the transform memory budget of 68 MB")
        .extracting(e -> ((ImageRequestException) e).status()).isEqualTo(422);

    assertThat(engine.nativeMemory().reservedBytes()).as("reserved after both").isZero();
    assertThat(engine.nativeMemory().budgetBytes()).isEqualTo(BUDGET);
  }

  @Test
  void interlacedSourceWithinTheBudgetIsTransformed() {
    VipsEngine engine = VipsEngine.create(Limits.defaults());
    TransformResult out = engine.transform(Pictures.blackRgbPng(SIDE, SIDE, true),
        EngineContract.spec("w=100&format=png"), null);
    assertThat(out.width()).isEqualTo(100);
  }
}
