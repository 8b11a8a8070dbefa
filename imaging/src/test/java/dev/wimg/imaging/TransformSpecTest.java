package dev.wimg.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.imaging.TransformSpec.Crop;
import dev.wimg.imaging.TransformSpec.Gravity;
import dev.wimg.imaging.TransformSpec.Mode;
import dev.wimg.imaging.TransformSpec.OutputFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class TransformSpecTest {

  private static final Limits LIMITS = Limits.defaults();

  /** Parses a query string the way a server would hand it over: bare names get "". */
  static Map<String, List<String>> query(String query) {
    Map<String, List<String>> params = new LinkedHashMap<>();
    if (query.isEmpty()) {
      return params;
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      params.computeIfAbsent(key, k -> new java.util.ArrayList<>()).add(value);
    }
    return params;
  }

  private static TransformSpec parse(String query) {
    return TransformSpec.parse(query(query), Presets.none(), LIMITS);
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> rejects(String query) {
    return assertThatThrownBy(() -> parse(query))
        .isInstanceOfSatisfying(ImageRequestException.class, e -> assertThat(e.status()).isEqualTo(400));
  }

  @Test
  void emptyQueryIsTheIdentity() {
    TransformSpec spec = parse("");
    assertThat(spec).isEqualTo(TransformSpec.IDENTITY);
    assertThat(spec.isIdentity()).isTrue();
    assertThat(spec.canonical()).isEmpty();
  }

  @Test
  void defaultsGivenExplicitlyAreStillTheIdentity() {
    TransformSpec spec = parse("mode=fit&gravity=center&rotate=0&strip=1&flip=0&gray=false&blur=0&bg=ffffff");
    assertThat(spec.isIdentity()).isTrue();
    assertThat(spec.canonical()).isEmpty();
  }

  @Test
  void everyParameterParses() {
    TransformSpec spec = parse("w=300&h=200&mode=fill&gravity=north&bg=00ff0080&crop=1,2,30,40"
        + "&rotate=270&flip&flop=1&gray=true&blur=1.5&q=80&format=webp&strip=0&progressive");
    assertThat(spec).isEqualTo(new TransformSpec(300, 200, Mode.FILL, Gravity.NORTH, 0x00ff0080,
        new Crop(1, 2, 30, 40), 270, true, true, true, 1.5, 80, OutputFormat.WEBP, false, true));
    assertThat(spec.isIdentity()).isFalse();
    assertThat(spec.backgroundOpaque()).isFalse();
  }

  @Test
  void canonicalFormIsSortedWithDefaultsDropped() {
    assertThat(parse("w=150&mode=fill&h=150&gravity=center").canonical())
        .isEqualTo("h=150&mode=fill&w=150");
    assertThat(parse("progressive=true&strip=false&format=jpg&q=075&w=0300&blur=2.50&bg=FFAA00")
        .canonical())
        .isEqualTo("bg=ffaa00&blur=2.5&format=jpeg&progressive=1&q=75&strip=0&w=300");
    assertThat(parse("bg=ffaa00ff").canonical()).isEqualTo("bg=ffaa00");
    assertThat(parse("gray&flip&flop&rotate=90&crop=0,0,5,5").canonical())
        .isEqualTo("crop=0,0,5,5&flip=1&flop=1&gray=1&rotate=90");
  }

  @Test
  void equalSpecsHaveEqualCanonicalForms() {
    assertThat(parse("w=100&h=50&mode=pad&bg=000000").canonical())
        .isEqualTo(parse("bg=000000&mode=pad&h=50&w=100").canonical());
  }

  @ParameterizedTest
  @ValueSource(strings = {"gray", "gray=1", "gray=true"})
  void flagsAcceptBareOneAndTrue(String query) {
    assertThat(parse(query).gray()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"gray=0", "gray=false"})
  void flagsAcceptZeroAndFalse(String query) {
    assertThat(parse(query).gray()).isFalse();
  }

  @Test
  void stripIsOnByDefaultAndCanBeTurnedOff() {
    assertThat(parse("w=10").strip()).isTrue();
    assertThat(parse("strip=0").strip()).isFalse();
  }

  @Test
  void oneSideOnlyIsAllowedForFit() {
    assertThat(parse("w=300").height()).isEqualTo(TransformSpec.UNSET);
    assertThat(parse("h=300").width()).isEqualTo(TransformSpec.UNSET);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      w=90000            | w must be 1..8192, got 90000
      w=0                | w must be 1..8192, got 0
      h=8193             | h must be 1..8192, got 8193
      w=99999999999999   | w must be 1..8192, got 99999999999999
      w=-5               | w must be an integer 1..8192, got "-5"
      w=abc              | w must be an integer 1..8192, got "abc"
      w=                 | w must be an integer 1..8192, got ""
      w=1.5              | w must be an integer 1..8192, got "1.5"
      q=0                | q must be 1..100, got 0
      q=101              | q must be 1..100, got 101
      mode=banana        | mode must be one of fit, fill, stretch, pad, got "banana"
      gravity=up         | gravity must be one of center, north, south, east, west, smart, got "up"
      format=gif         | format must be one of auto, jpeg, png, webp, avif, got "gif"
      format=source      | format must be one of auto, jpeg, png, webp, avif, got "source"
      rotate=45          | rotate must be one of 0, 90, 180, 270, got "45"
      gray=yes           | gray must be empty, 1, true, 0 or false, got "yes"
      strip=off          | strip must be empty, 1, true, 0 or false, got "off"
      blur=101           | blur must be a number 0..100 with at most 2 decimals, got "101"
      blur=1.005         | blur must be a number 0..100 with at most 2 decimals, got "1.005"
      blur=-1            | blur must be a number 0..100 with at most 2 decimals, got "-1"
      blur=1e3           | blur must be a number 0..100 with at most 2 decimals, got "1e3"
      bg=fff             | bg must be a colour RRGGBB or RRGGBBAA in hex, got "fff"
      bg=gggggg          | bg must be a colour RRGGBB or RRGGBBAA in hex, got "gggggg"
      crop=1,2,3         | crop must be x,y,w,h in pixels, got "1,2,3"
      crop=1,2,0,4       | crop width must be 1..10000000, got 0
      crop=1,2,3,x       | crop height must be an integer 1..10000000, got "x"
      crop=10000001,0,1,1 | crop x must be 0..10000000, got 10000001
      mode=fill&w=10     | mode=fill needs both w and h, got w=10 and no h
      mode=pad&h=10      | mode=pad needs both w and h, got no w and h=10
      mode=stretch       | mode=stretch needs both w and h, got no w and no h
      gravity=north&w=5  | gravity=north applies to mode=fill or mode=pad only, got mode=fit
      gravity=smart&w=5&h=5&mode=pad | gravity=smart applies to mode=fill only, got mode=pad
      """)
  void outOfRangeValuesAreRejectedNamingParameterRangeAndValue(String query, String message) {
    rejects(query).hasMessage(message);
  }

  @Test
  void unknownParameterIsRejectedListingTheKnownOnes() {
    rejects("w=10&width=10").hasMessage("unknown parameter \"width\"; known: bg, blur, crop, flip, "
        + "flop, format, gravity, gray, h, mode, p, progressive, q, rotate, strip, w");
    rejects("W=10").hasMessageStartingWith("unknown parameter \"W\"");
  }

  @Test
  void repeatedParameterIsRejected() {
    rejects("w=10&w=20").hasMessage("w must be given once, got 2 values");
  }

  @Test
  void clientTextIsBoundedAndControlCharactersEscapedInMessages() {
    rejects("mode=" + "x".repeat(100)).hasMessage(
        "mode must be one of fit, fill, stretch, pad, got \"" + "x".repeat(40) + "...\"");
    rejects("mode=a\nb").hasMessage("mode must be one of fit, fill, stretch, pad, got \"a\\x0ab\"");
  }

  @Test
  void presetExpandsAndExplicitParametersOverrideIt() {
    Presets presets = Presets.of(Map.of("thumb", "w=150&h=150&mode=fill"), false, LIMITS);
    TransformSpec spec = TransformSpec.parse(query("p=thumb"), presets, LIMITS);
    assertThat(spec.canonical()).isEqualTo("h=150&mode=fill&w=150");
    assertThat(spec).isEqualTo(parse("w=150&h=150&mode=fill"));
    assertThat(TransformSpec.parse(query("p=thumb&format=webp&w=200"), presets, LIMITS).canonical())
        .isEqualTo("format=webp&h=150&mode=fill&w=200");
  }

  @Test
  void unknownPresetIsRejectedListingTheDefinedOnes() {
    Presets presets = Presets.of(Map.of("thumb", "w=150", "hero", "w=1200"), false, LIMITS);
    assertThatThrownBy(() -> TransformSpec.parse(query("p=huge"), presets, LIMITS))
        .isInstanceOf(ImageRequestException.class)
        .hasMessage("p must be one of hero, thumb, got \"huge\"");
    assertThatThrownBy(() -> parse("p=thumb"))
        .hasMessage("p must name a preset, but none is configured, got \"thumb\"");
  }

  @Test
  void presetsOnlyRefusesAnyOtherParameter() {
    Presets presets = Presets.of(Map.of("thumb", "w=150"), true, LIMITS);
    assertThat(TransformSpec.parse(query("p=thumb"), presets, LIMITS).width()).isEqualTo(150);
    assertThatThrownBy(() -> TransformSpec.parse(query("p=thumb&w=9000"), presets, LIMITS))
        .isInstanceOfSatisfying(ImageRequestException.class, e -> assertThat(e.status()).isEqualTo(400))
        .hasMessage("only presets are allowed (p=one of [thumb]), got w");
    assertThatThrownBy(() -> TransformSpec.parse(query("w=10"), presets, LIMITS))
        .hasMessage("only presets are allowed (p=one of [thumb]), got w");
    assertThat(TransformSpec.parse(query(""), presets, LIMITS).isIdentity()).isTrue();
  }

  @Test
  void badPresetDefinitionsFailAtConfigurationTime() {
    assertThatThrownBy(() -> Presets.of(Map.of("big", "w=9000"), false, LIMITS))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("preset big: w must be 1..8192, got 9000");
    assertThatThrownBy(() -> Presets.of(Map.of("a", "p=b"), false, LIMITS))
        .hasMessage("preset a: parameter \"p\" is not allowed in a preset");
    assertThatThrownBy(() -> Presets.of(Map.of("a", "w=1&w=2"), false, LIMITS))
        .hasMessage("preset a: w given twice");
    assertThatThrownBy(() -> Presets.of(Map.of("Bad Name", "w=1"), false, LIMITS))
        .hasMessage("preset name must match [a-z0-9_-]{1,32}, got \"Bad Name\"");
    assertThatThrownBy(() -> Presets.of(Map.of(), true, LIMITS))
        .hasMessage("presets-only is on but no preset is defined");
  }

  @Test
  void configuredOutputSideLimitApplies() {
    Limits small = LIMITS.withMaxOutputSide(1000);
    assertThatThrownBy(() -> TransformSpec.parse(query("w=1001"), Presets.none(), small))
        .hasMessage("w must be 1..1000, got 1001");
  }

  @Test
  void recordConstructorRefusesInconsistentSpecs() {
    assertThatThrownBy(() -> new TransformSpec(10, 0, Mode.FILL, Gravity.CENTER, -1, null, 0,
        false, false, false, 0, 0, OutputFormat.SOURCE, true, false))
        .isInstanceOf(ImageRequestException.class)
        .hasMessage("mode=fill needs both w and h, got w=10 and no h");
    assertThatThrownBy(() -> new TransformSpec(10, 10, Mode.FIT, Gravity.CENTER, -1, null, 45,
        false, false, false, 0, 0, OutputFormat.SOURCE, true, false))
        .hasMessage("rotate must be one of 0, 90, 180, 270, got 45");
    assertThatThrownBy(() -> new TransformSpec(10, 10, Mode.FIT, Gravity.CENTER, -1, null, 0,
        false, false, false, Double.NaN, 0, OutputFormat.SOURCE, true, false))
        .hasMessage("blur must be 0..100, got NaN");
  }
}
