package dev.wimg.imaging;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;

/**
 * One transform of a stored picture, as asked for in its URL's query string. Immutable and
 * validated: an instance always describes something an engine may attempt.
 *
 * <p>Grammar (every parameter optional; docs/IMAGING.md has the full table):
 * <pre>
 * w, h         1..maxOutputSide     box in pixels; with one side only, the other keeps the ratio
 * mode         fit|fill|stretch|pad fit (default) inside the box, never enlarging; fill covers the
 *                                   box then crops to exactly w×h; stretch to exactly w×h; pad
 *                                   fits then pads to exactly w×h with bg. All but fit need w and h
 * gravity      center|north|south|east|west|smart   where fill crops / pad places (smart: fill only)
 * bg           RRGGBB or RRGGBBAA   pad and alpha-flattening colour, default ffffff
 * crop         x,y,w,h              area of the (auto-rotated) source kept before resizing
 * rotate       0|90|180|270         clockwise, after resizing; w×h is the box of the final output
 * flip, flop   flag                 flip: upside down (vertical mirror); flop: left-right mirror
 * gray         flag                 grayscale output
 * blur         0..100               gaussian sigma in output pixels, at most 2 decimals; 0 is none
 * q            1..100               encoder quality; default per format
 * format       jpeg|png|webp|avif|auto   default: the source's format (see the engine)
 * strip        flag, default on     drop metadata (the EXIF orientation is always applied first)
 * progressive  flag                 progressive JPEG / interlaced PNG
 * p            preset name          expands to the preset's parameters; explicit ones win
 * </pre>
 * A flag is on for {@code name}, {@code name=1} or {@code name=true} and off for {@code name=0}
 * or {@code name=false}.
 *
 * @param width       output box width in pixels, {@link #UNSET} when not given
 * @param height      output box height in pixels, {@link #UNSET} when not given
 * @param mode        how the source goes into the box
 * @param gravity     which part {@code fill} keeps, or where {@code pad} places the picture
 * @param background  pad and flattening colour as {@code 0xRRGGBBAA}
 * @param crop        area of the source to keep before resizing, {@code null} for all of it
 * @param rotate      clockwise rotation in degrees: 0, 90, 180 or 270
 * @param flip        mirror top to bottom
 * @param flop        mirror left to right
 * @param gray        grayscale output
 * @param blur        gaussian blur sigma in output pixels, 0 for none
 * @param quality     encoder quality 1..100, {@link #UNSET} for the format's default
 * @param format      the output format asked for
 * @param strip       drop metadata from the output
 * @param progressive progressive JPEG / interlaced PNG output
 */
public record TransformSpec(int width, int height, Mode mode, Gravity gravity, int background,
                            Crop crop, int rotate, boolean flip, boolean flop, boolean gray,
                            double blur, int quality, OutputFormat format, boolean strip,
                            boolean progressive) {

  /** Value of {@link #width}, {@link #height} and {@link #quality} when not given. */
  public static final int UNSET = 0;
  /** Default {@link #background}: opaque white. */
  public static final int DEFAULT_BACKGROUND = 0xFFFFFFFF;
  /** Largest {@link #blur} sigma: gaussian blur cost grows with sigma. */
  public static final double MAX_BLUR = 100;
  /** Largest crop coordinate or size, in pixels: libvips' own coordinate bound. */
  public static final int MAX_CROP_COORDINATE = 10_000_000;
  /** Parameter that names a preset. */
  public static final String PRESET_PARAMETER = "p";

  /** The transform with every parameter at its default: serve the original untouched. */
  public static final TransformSpec IDENTITY = new TransformSpec(UNSET, UNSET, Mode.FIT,
      Gravity.CENTER, DEFAULT_BACKGROUND, null, 0, false, false, false, 0, UNSET,
      OutputFormat.SOURCE, true, false);

  /** Every parameter name the grammar knows, in canonical (sorted) order. */
  public static final List<String> PARAMETERS = List.of("bg", "blur", "crop", "flip", "flop",
      "format", "gravity", "gray", "h", "mode", PRESET_PARAMETER, "progressive", "q", "rotate",
      "strip", "w");

  /** How the source is fitted to the {@code w×h} box. */
  public enum Mode {
    /** Inside the box, ratio kept, never enlarged. */
    FIT,
    /** Cover the box (ratio kept, enlarging if needed), then crop to exactly w×h by gravity. */
    FILL,
    /** Exactly w×h, ratio not kept. */
    STRETCH,
    /** Fit inside the box, then pad to exactly w×h with the background, placed by gravity. */
    PAD;

    /** The name used in URLs. */
    public String token() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Which part of the picture {@code fill} keeps, or where {@code pad} places it. */
  public enum Gravity {
    CENTER, NORTH, SOUTH, EAST, WEST,
    /** libvips' attention-based crop: the most interesting part (fill only). */
    SMART;

    /** The name used in URLs. */
    public String token() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** The output format a request asks for. */
  public enum OutputFormat {
    /** Not given: the source's own format where the engine can write it. */
    SOURCE,
    /** WebP or AVIF when the request's {@code Accept} allows, else as {@link #SOURCE}. */
    AUTO,
    JPEG, PNG, WEBP, AVIF;

    /** The name used in URLs. */
    public String token() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * An area of the source in pixels, in the orientation the picture is shown (after the EXIF
   * orientation is applied).
   *
   * @param x left edge, 0..{@value #MAX_CROP_COORDINATE}
   * @param y top edge, 0..{@value #MAX_CROP_COORDINATE}
   * @param width 1..{@value #MAX_CROP_COORDINATE}
   * @param height 1..{@value #MAX_CROP_COORDINATE}
   */
  public record Crop(int x, int y, int width, int height) {
    public Crop {
      checkRange("crop x", x, 0, MAX_CROP_COORDINATE);
      checkRange("crop y", y, 0, MAX_CROP_COORDINATE);
      checkRange("crop width", width, 1, MAX_CROP_COORDINATE);
      checkRange("crop height", height, 1, MAX_CROP_COORDINATE);
    }

    @Override
    public String toString() {
      return x + "," + y + "," + width + "," + height;
    }
  }

  /**
   * Checks the rules that do not depend on configured limits; {@link #parse} checks the rest.
   *
   * @throws ImageRequestException with status 400 naming the broken rule
   */
  public TransformSpec {
    if (mode == null || gravity == null || format == null) {
      throw new NullPointerException("mode, gravity and format must not be null");
    }
    checkRange("w", width, UNSET, Limits.MAX_OUTPUT_SIDE_CEILING);
    checkRange("h", height, UNSET, Limits.MAX_OUTPUT_SIDE_CEILING);
    checkRange("q", quality, UNSET, 100);
    if (rotate != 0 && rotate != 90 && rotate != 180 && rotate != 270) {
      throw ImageRequestException.badRequest("rotate must be one of 0, 90, 180, 270, got " + rotate);
    }
    if (!(blur >= 0 && blur <= MAX_BLUR)) {
      throw ImageRequestException.badRequest("blur must be 0.." + (int) MAX_BLUR + ", got " + blur);
    }
    if (mode != Mode.FIT && (width == UNSET || height == UNSET)) {
      throw ImageRequestException.badRequest(
          "mode=" + mode.token() + " needs both w and h, got " + sides(width, height));
    }
    if (gravity != Gravity.CENTER && mode != Mode.FILL && (mode != Mode.PAD
        || gravity == Gravity.SMART)) {
      throw ImageRequestException.badRequest("gravity=" + gravity.token() + " applies to "
          + (gravity == Gravity.SMART ? "mode=fill" : "mode=fill or mode=pad")
          + " only, got mode=" + mode.token());
    }
  }

  /**
   * Parses a query string's parameters.
   *
   * @param queryParams decoded parameters, each name with the values it was given (a flag given
   *                    bare has one empty value); parameters owned by the caller, such as a
   *                    signature, must be removed first
   * @param presets     the configured presets, and whether only presets are allowed
   * @param limits      the output side limit
   * @return the transform; {@link #isIdentity()} when nothing is asked
   * @throws ImageRequestException status 400 for an unknown parameter, a repeated one, a value out
   *                               of range, an unknown preset, or parameters that do not go together
   */
  public static TransformSpec parse(Map<String, List<String>> queryParams, Presets presets,
                                    Limits limits) {
    Map<String, String> single = singleValues(queryParams);
    String presetName = single.remove(PRESET_PARAMETER);
    if (presets.presetsOnly() && !single.isEmpty()) {
      throw ImageRequestException.badRequest("only presets are allowed (p=one of "
          + presets.names() + "), got " + String.join(", ", single.keySet()));
    }
    if (presetName != null) {
      Map<String, String> merged = new LinkedHashMap<>(presets.parameters(presetName));
      merged.putAll(single);
      single = merged;
    }
    return fromSingleValues(single, limits);
  }

  private static Map<String, String> singleValues(Map<String, List<String>> queryParams) {
    Map<String, String> single = new LinkedHashMap<>();
    for (Map.Entry<String, List<String>> e : queryParams.entrySet()) {
      String name = e.getKey();
      if (!PARAMETERS.contains(name)) {
        throw ImageRequestException.badRequest("unknown parameter " + printable(name)
            + "; known: " + String.join(", ", PARAMETERS));
      }
      List<String> values = e.getValue();
      if (values == null || values.size() != 1) {
        throw ImageRequestException.badRequest(name + " must be given once, got "
            + (values == null ? 0 : values.size()) + " values");
      }
      single.put(name, values.getFirst() == null ? "" : values.getFirst());
    }
    return single;
  }

  /** Parses parameters that are known to hold one value each and no preset. */
  static TransformSpec fromSingleValues(Map<String, String> p, Limits limits) {
    int maxSide = limits.maxOutputSide();
    int width = p.containsKey("w") ? integer("w", p.get("w"), 1, maxSide) : UNSET;
    int height = p.containsKey("h") ? integer("h", p.get("h"), 1, maxSide) : UNSET;
    Mode mode = p.containsKey("mode") ? choice("mode", p.get("mode"), Mode.values(), Mode::token)
        : Mode.FIT;
    Gravity gravity = p.containsKey("gravity")
        ? choice("gravity", p.get("gravity"), Gravity.values(), Gravity::token) : Gravity.CENTER;
    int background = p.containsKey("bg") ? color(p.get("bg")) : DEFAULT_BACKGROUND;
    Crop crop = p.containsKey("crop") ? crop(p.get("crop")) : null;
    int rotate = p.containsKey("rotate") ? rotation(p.get("rotate")) : 0;
    boolean flip = flag("flip", p.get("flip"), false);
    boolean flop = flag("flop", p.get("flop"), false);
    boolean gray = flag("gray", p.get("gray"), false);
    double blur = p.containsKey("blur") ? blur(p.get("blur")) : 0;
    int quality = p.containsKey("q") ? integer("q", p.get("q"), 1, 100) : UNSET;
    OutputFormat format = p.containsKey("format") ? format(p.get("format")) : OutputFormat.SOURCE;
    boolean strip = flag("strip", p.get("strip"), true);
    boolean progressive = flag("progressive", p.get("progressive"), false);
    TransformSpec spec = new TransformSpec(width, height, mode, gravity, background, crop, rotate,
        flip, flop, gray, blur, quality, format, strip, progressive);
    checkOutputLimits(spec, limits);
    return spec;
  }

  /**
   * The output limits the URL alone passes: {@code fill}, {@code stretch} and {@code pad} make
   * exactly {@code w×h}, so its area and its blur cost are known before the source is read. The
   * engine checks the rest against the source (a 422).
   */
  private static void checkOutputLimits(TransformSpec spec, Limits limits) {
    if (spec.mode() == Mode.FIT) {
      return;
    }
    long pixels = (long) spec.width() * spec.height();
    if (pixels > limits.maxOutputPixels()) {
      throw ImageRequestException.badRequest("w x h must be at most " + limits.maxOutputPixels()
          + " pixels for mode=" + spec.mode().token() + ", got " + spec.width() + "x"
          + spec.height() + " = " + pixels);
    }
    if (spec.blur() > 0 && pixels * spec.blur() > limits.maxBlurWork()) {
      throw ImageRequestException.badRequest("blur x w x h must be at most "
          + limits.maxBlurWork() + ", got blur=" + BigDecimal.valueOf(spec.blur())
          .stripTrailingZeros().toPlainString() + " on " + spec.width() + "x" + spec.height()
          + " = " + (long) (pixels * spec.blur()));
    }
  }

  /** True when every parameter is at its default: the original is served untouched. */
  public boolean isIdentity() {
    return equals(IDENTITY);
  }

  /**
   * The normalized text form: parameters sorted by name, defaults left out, flags as {@code 1} or
   * {@code 0}, values in their shortest form (for example {@code h=150&mode=fill&w=150}); empty for
   * {@link #IDENTITY}. Two specs are equal exactly when their canonical forms are, so it is a
   * cache key and part of an ETag; {@link #parse} of it gives this spec back (presets are already
   * expanded in it).
   */
  public String canonical() {
    StringJoiner out = new StringJoiner("&");
    for (Map.Entry<String, String> e : canonicalParameters().entrySet()) {
      out.add(e.getKey() + "=" + e.getValue());
    }
    return out.toString();
  }

  /** {@link #canonical()} as a sorted map of parameter to value. */
  public Map<String, String> canonicalParameters() {
    TreeMap<String, String> p = new TreeMap<>();
    if (background != DEFAULT_BACKGROUND) {
      p.put("bg", colorText(background));
    }
    if (blur != 0) {
      p.put("blur", BigDecimal.valueOf(blur).stripTrailingZeros().toPlainString());
    }
    if (crop != null) {
      p.put("crop", crop.toString());
    }
    putFlag(p, "flip", flip, false);
    putFlag(p, "flop", flop, false);
    if (format != OutputFormat.SOURCE) {
      p.put("format", format.token());
    }
    if (gravity != Gravity.CENTER) {
      p.put("gravity", gravity.token());
    }
    putFlag(p, "gray", gray, false);
    if (height != UNSET) {
      p.put("h", Integer.toString(height));
    }
    if (mode != Mode.FIT) {
      p.put("mode", mode.token());
    }
    putFlag(p, "progressive", progressive, false);
    if (quality != UNSET) {
      p.put("q", Integer.toString(quality));
    }
    if (rotate != 0) {
      p.put("rotate", Integer.toString(rotate));
    }
    putFlag(p, "strip", strip, true);
    if (width != UNSET) {
      p.put("w", Integer.toString(width));
    }
    return p;
  }

  /** True when the background colour is fully opaque. */
  public boolean backgroundOpaque() {
    return (background & 0xFF) == 0xFF;
  }

  private static void putFlag(Map<String, String> p, String name, boolean value, boolean dflt) {
    if (value != dflt) {
      p.put(name, value ? "1" : "0");
    }
  }

  private static String sides(int width, int height) {
    return (width == UNSET ? "no w" : "w=" + width) + " and " + (height == UNSET ? "no h" : "h=" + height);
  }

  private static void checkRange(String name, int value, int min, int max) {
    if (value < min || value > max) {
      throw ImageRequestException.badRequest(
          name + " must be " + min + ".." + max + ", got " + value);
    }
  }

  /** Longest digit string parsed as a number; longer ones are out of range by construction. */
  private static final int MAX_DIGITS = 9;

  private static int integer(String name, String text, int min, int max) {
    if (text.isEmpty() || text.length() > 64 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw ImageRequestException.badRequest(
          name + " must be an integer " + min + ".." + max + ", got " + printable(text));
    }
    String digits = text.replaceFirst("^0+(?=.)", "");
    if (digits.length() > MAX_DIGITS) {
      throw ImageRequestException.badRequest(name + " must be " + min + ".." + max + ", got " + digits);
    }
    int value = Integer.parseInt(digits);
    checkRange(name, value, min, max);
    return value;
  }

  private static <E extends Enum<E>> E choice(String name, String text, E[] values,
                                              java.util.function.Function<E, String> token) {
    List<String> tokens = new ArrayList<>();
    for (E v : values) {
      if (v instanceof OutputFormat f && f == OutputFormat.SOURCE) {
        continue;
      }
      if (token.apply(v).equals(text)) {
        return v;
      }
      tokens.add(token.apply(v));
    }
    throw ImageRequestException.badRequest(
        name + " must be one of " + String.join(", ", tokens) + ", got " + printable(text));
  }

  private static OutputFormat format(String text) {
    return "jpg".equals(text) ? OutputFormat.JPEG
        : choice("format", text, OutputFormat.values(), OutputFormat::token);
  }

  private static int rotation(String text) {
    return switch (text) {
      case "0" -> 0;
      case "90" -> 90;
      case "180" -> 180;
      case "270" -> 270;
      default -> throw ImageRequestException.badRequest(
          "rotate must be one of 0, 90, 180, 270, got " + printable(text));
    };
  }

  private static boolean flag(String name, String text, boolean absent) {
    if (text == null) {
      return absent;
    }
    return switch (text) {
      case "", "1", "true" -> true;
      case "0", "false" -> false;
      default -> throw ImageRequestException.badRequest(
          name + " must be empty, 1, true, 0 or false, got " + printable(text));
    };
  }

  private static double blur(String text) {
    String rule = "blur must be a number 0..100 with at most 2 decimals, got " + printable(text);
    if (text.isEmpty() || text.length() > 16 || !text.matches("[0-9]+(\\.[0-9]+)?")) {
      throw ImageRequestException.badRequest(rule);
    }
    BigDecimal value = new BigDecimal(text).stripTrailingZeros();
    if (value.scale() > 2 || value.compareTo(BigDecimal.valueOf(MAX_BLUR)) > 0) {
      throw ImageRequestException.badRequest(rule);
    }
    return value.doubleValue();
  }

  private static int color(String text) {
    if ((text.length() != 6 && text.length() != 8) || !text.chars().allMatch(HexFormat::isHexDigit)) {
      throw ImageRequestException.badRequest(
          "bg must be a colour RRGGBB or RRGGBBAA in hex, got " + printable(text));
    }
    int rgba = HexFormat.fromHexDigits(text);
    return text.length() == 6 ? (rgba << 8) | 0xFF : rgba;
  }

  private static String colorText(int rgba) {
    String hex = HexFormat.of().toHexDigits(rgba);
    return (rgba & 0xFF) == 0xFF ? hex.substring(0, 6) : hex;
  }

  private static Crop crop(String text) {
    String[] parts = text.split(",", -1);
    if (parts.length != 4) {
      throw ImageRequestException.badRequest(
          "crop must be x,y,w,h in pixels, got " + printable(text));
    }
    return new Crop(integer("crop x", parts[0], 0, MAX_CROP_COORDINATE),
        integer("crop y", parts[1], 0, MAX_CROP_COORDINATE),
        integer("crop width", parts[2], 1, MAX_CROP_COORDINATE),
        integer("crop height", parts[3], 1, MAX_CROP_COORDINATE));
  }

  /** Longest client text quoted back in an error message, in characters. */
  private static final int MAX_QUOTED = 40;

  /** Client text made safe to quote in a message: bounded, control characters escaped. */
  static String printable(String text) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < text.length() && i < MAX_QUOTED; i++) {
      char c = text.charAt(i);
      out.append(c < 0x20 || c == 0x7F ? String.format("\\x%02x", (int) c) : c);
    }
    if (text.length() > MAX_QUOTED) {
      out.append("...");
    }
    return "\"" + out + "\"";
  }
}
