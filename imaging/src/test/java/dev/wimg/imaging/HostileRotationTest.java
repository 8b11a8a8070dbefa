package dev.wimg.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.imaging.internal.VipsEngine;
import dev.wimg.testsupport.RequiresLibvips;
import java.nio.ByteBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * A rotation or a vertical flip reads the resized picture's lines out of order, while the source
 * is decoded sequentially. A valid 1 x 262,144 column stretched to 1 x 8192 and turned came back
 * as a 422 ("vipspng: out of order read at line 262144"); it must come back turned.
 */
@RequiresLibvips
class HostileRotationTest {

  private final VipsEngine engine = VipsEngine.create(Limits.defaults());

  @ParameterizedTest
  @ValueSource(strings = {"rotate=180", "rotate=90", "rotate=270", "flip=true"})
  void aTallColumnIsTurnedNotRefused(String turn) {
    ByteBuffer column = Pictures.pngBomb(1, 262_144);
    // w and h are the output's: a quarter turn makes the stretched 1 x 8192 column a 8192 x 1 row
    boolean quarter = turn.equals("rotate=90") || turn.equals("rotate=270");
    String box = quarter ? "w=8192&h=1" : "w=1&h=8192";
    TransformResult out = engine.transform(column,
        EngineContract.spec(box + "&mode=stretch&format=jpeg&" + turn), null);
    assertThat(out.width()).isEqualTo(quarter ? 8192 : 1);
    assertThat(out.height()).isEqualTo(quarter ? 1 : 8192);
  }

  @Test
  void aTransformThatTurnsIsStillAnsweredWithTheBudgetWhenItRunsPastIt() {
    // The resized picture is now computed before the turn (VipsEngine.Call#materialize, watched
    // like the save). This shows the answer stays the budget's 503; it does not show by itself
    // that the copy is stopped early, since the save after it would be stopped too.
    VipsEngine tight = VipsEngine.create(Limits.defaults().withMaxTransformMillis(1));
    try {
      assertThatThrownBy(() -> tight.transform(Pictures.pngBomb(4000, 3000),
          EngineContract.spec("w=2000&blur=5&rotate=90&format=png"), null))
          .isInstanceOf(ImageRequestException.class)
          .hasMessage("the transform ran past its budget of 1 ms and was stopped");
    } finally {
      VipsEngine.create(Limits.defaults()); // libvips' settings are per process: set them back
    }
  }
}
