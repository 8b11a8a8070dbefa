package dev.wimg.imaging;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Named transforms from configuration, used as {@code ?p=<name>}, and the switch that allows only
 * presets (so clients cannot ask for arbitrary sizes: resize-DoS protection).
 *
 * <p>A definition is a query string in the grammar of {@link TransformSpec}, without
 * percent-encoding and without {@code p}, for example {@code thumb -> w=150&h=150&mode=fill}.
 * Definitions are checked when the presets are built, so a bad configuration fails at start-up,
 * not on the first request. Parameters given next to {@code p} override the preset's.
 */
public final class Presets {

  /** Preset names: lower-case letters, digits, {@code -} and {@code _}, 1..32 characters. */
  public static final Pattern NAME = Pattern.compile("[a-z0-9_-]{1,32}");

  private static final Presets NONE = new Presets(Map.of(), false);

  private final Map<String, Map<String, String>> definitions;
  private final boolean presetsOnly;

  private Presets(Map<String, Map<String, String>> definitions, boolean presetsOnly) {
    this.definitions = definitions;
    this.presetsOnly = presetsOnly;
  }

  /** No presets; any transform may be asked. */
  public static Presets none() {
    return NONE;
  }

  /**
   * @param definitions name to definition, see the class Javadoc
   * @param presetsOnly when true, a request may give {@code p} and nothing else
   * @param limits      the limits the definitions must respect
   * @throws IllegalArgumentException naming the preset and what is wrong with it
   */
  public static Presets of(Map<String, String> definitions, boolean presetsOnly, Limits limits) {
    Map<String, Map<String, String>> parsed = new TreeMap<>();
    for (Map.Entry<String, String> e : definitions.entrySet()) {
      String name = e.getKey();
      if (!NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "preset name must match " + NAME.pattern() + ", got " + TransformSpec.printable(name));
      }
      Map<String, String> params = new LinkedHashMap<>();
      String definition = e.getValue();
      if (!definition.isEmpty()) {
        for (String pair : definition.split("&", -1)) {
          int eq = pair.indexOf('=');
          String key = eq < 0 ? pair : pair.substring(0, eq);
          String value = eq < 0 ? "" : pair.substring(eq + 1);
          if (key.equals(TransformSpec.PRESET_PARAMETER) || !TransformSpec.PARAMETERS.contains(key)) {
            throw new IllegalArgumentException("preset " + name + ": parameter "
                + TransformSpec.printable(key) + " is not allowed in a preset");
          }
          if (params.put(key, value) != null) {
            throw new IllegalArgumentException("preset " + name + ": " + key + " given twice");
          }
        }
      }
      try {
        TransformSpec.fromSingleValues(params, limits);
      } catch (ImageRequestException ex) {
        throw new IllegalArgumentException("preset " + name + ": " + ex.getMessage(), ex);
      }
      parsed.put(name, Collections.unmodifiableMap(params));
    }
    if (presetsOnly && parsed.isEmpty()) {
      throw new IllegalArgumentException("presets-only is on but no preset is defined");
    }
    return new Presets(Collections.unmodifiableMap(parsed), presetsOnly);
  }

  /** True when requests may only name a preset. */
  public boolean presetsOnly() {
    return presetsOnly;
  }

  /** The preset names, sorted. */
  public Set<String> names() {
    return definitions.keySet();
  }

  /**
   * The parameters of a preset.
   *
   * @throws ImageRequestException status 400 when there is no such preset
   */
  Map<String, String> parameters(String name) {
    Map<String, String> params = definitions.get(name);
    if (params == null) {
      throw ImageRequestException.badRequest(definitions.isEmpty()
          ? "p must name a preset, but none is configured, got " + TransformSpec.printable(name)
          : "p must be one of " + String.join(", ", definitions.keySet()) + ", got "
              + TransformSpec.printable(name));
    }
    return params;
  }
}
