package dev.wimg.imaging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.imaging.TransformSpec.Crop;
import dev.wimg.imaging.TransformSpec.Gravity;
import dev.wimg.imaging.TransformSpec.Mode;
import dev.wimg.imaging.TransformSpec.OutputFormat;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class TransformSpecPropertiesTest {

  private static final Limits LIMITS = Limits.defaults();

  @Property(tries = 2000)
  void canonicalFormParsesBackToTheSameSpec(@ForAll("specs") TransformSpec spec) {
    String canonical = spec.canonical();
    TransformSpec back = TransformSpec.parse(TransformSpecTest.query(canonical), Presets.none(), LIMITS);
    assertThat(back).isEqualTo(spec);
    assertThat(back.canonical()).isEqualTo(canonical);
    assertThat(back.isIdentity()).isEqualTo(canonical.isEmpty());
  }

  @Provide
  Arbitrary<TransformSpec> specs() {
    Arbitrary<Integer> side = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(1, Arbitraries.just(TransformSpec.UNSET)),
        net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(1, LIMITS.maxOutputSide())));
    Arbitrary<Crop> crop = Combinators.combine(
            Arbitraries.integers().between(0, TransformSpec.MAX_CROP_COORDINATE),
            Arbitraries.integers().between(0, TransformSpec.MAX_CROP_COORDINATE),
            Arbitraries.integers().between(1, TransformSpec.MAX_CROP_COORDINATE),
            Arbitraries.integers().between(1, TransformSpec.MAX_CROP_COORDINATE))
        .as(Crop::new).injectNull(0.5);
    Arbitrary<Double> blur = Arbitraries.integers().between(0, 10_000).map(i -> i / 100.0);
    Arbitrary<Integer> quality = Arbitraries.integers().between(0, 100);
    Arbitrary<Integer> background = Arbitraries.oneOf(Arbitraries.just(TransformSpec.DEFAULT_BACKGROUND),
        Arbitraries.integers());
    Arbitrary<TransformSpec> geometry = Combinators.combine(side, side,
            Arbitraries.of(Mode.class), Arbitraries.of(Gravity.class), crop,
            Arbitraries.of(0, 90, 180, 270))
        .as((w, h, mode, gravity, c, rotate) -> {
          Mode m = (w == 0 || h == 0) ? Mode.FIT : mode;
          Gravity g = m == Mode.FILL || (m == Mode.PAD && gravity != Gravity.SMART) ? gravity
              : Gravity.CENTER;
          return new TransformSpec(w, h, m, g, TransformSpec.DEFAULT_BACKGROUND, c, rotate,
              false, false, false, 0, 0, OutputFormat.SOURCE, true, false);
        });
    return Combinators.combine(geometry, background, Arbitraries.of(true, false).list().ofSize(5),
            blur, quality, Arbitraries.of(OutputFormat.class))
        .as((s, bg, flags, b, q, format) -> new TransformSpec(s.width(), s.height(), s.mode(),
            s.gravity(), bg, s.crop(), s.rotate(), flags.get(0), flags.get(1), flags.get(2), b, q,
            format, flags.get(3), flags.get(4)))
        .filter(TransformSpecPropertiesTest::withinOutputLimits);
  }

  /** Whether parse accepts the spec's output size and blur (fill, stretch, pad: exactly w×h). */
  private static boolean withinOutputLimits(TransformSpec spec) {
    long pixels = (long) spec.width() * spec.height();
    return spec.mode() == Mode.FIT || (pixels <= LIMITS.maxOutputPixels()
        && pixels * spec.blur() <= LIMITS.maxBlurWork());
  }
}
