package dev.wimg.server.internal.transform;

import dev.wimg.server.internal.http.RequestTarget;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;

/**
 * The query string of a file URL, split into the transform parameters (for
 * {@link dev.wimg.imaging.TransformSpec#parse}) and the server's own {@code sig}.
 *
 * @param parameters name to its decoded values, in URL order, without {@code sig}
 * @param signature  the {@code sig} value, or null when absent
 */
public record TransformQuery(Map<String, List<String>> parameters, String signature) {

  /** The signature parameter, owned by the server and never passed to the engine. */
  public static final String SIGNATURE = "sig";
  /** Most parameters accepted in one query; the grammar has 16 names. */
  static final int MAX_PARAMETERS = 64;

  /**
   * Splits a raw query ({@code a=1&b&c=%2F}), percent-decoding names and values as form data.
   * Empty pairs ({@code a=1&&b=2}) are skipped.
   *
   * @throws IllegalArgumentException on bad percent escapes, too many parameters, or {@code sig}
   *                                  given twice
   */
  public static TransformQuery parse(String rawQuery) {
    Map<String, List<String>> params = new LinkedHashMap<>();
    String signature = null;
    int count = 0;
    if (rawQuery != null && !rawQuery.isEmpty()) {
      for (String pair : rawQuery.split("&", -1)) {
        if (pair.isEmpty()) {
          continue;
        }
        if (++count > MAX_PARAMETERS) {
          throw new IllegalArgumentException("too many query parameters: at most " + MAX_PARAMETERS);
        }
        int eq = pair.indexOf('=');
        String name = RequestTarget.percentDecode(eq < 0 ? pair : pair.substring(0, eq), true);
        String value = eq < 0 ? "" : RequestTarget.percentDecode(pair.substring(eq + 1), true);
        if (name.equals(SIGNATURE)) {
          if (signature != null) {
            throw new IllegalArgumentException("sig must be given once");
          }
          signature = value;
        } else {
          params.computeIfAbsent(name, k -> new ArrayList<>(1)).add(value);
        }
      }
    }
    Map<String, List<String>> frozen = new LinkedHashMap<>();
    params.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
    return new TransformQuery(Collections.unmodifiableMap(frozen), signature);
  }

  /** True when the query asks for nothing but (maybe) a signature. */
  public boolean isEmpty() {
    return parameters.isEmpty();
  }

  /**
   * The parameters as signed: sorted by name (then by value for a repeated name), each
   * {@code name=value} with the decoded text, joined by {@code &}; a bare flag is {@code name=}.
   */
  public String signedText() {
    StringJoiner out = new StringJoiner("&");
    for (Map.Entry<String, List<String>> e : new TreeMap<>(parameters).entrySet()) {
      e.getValue().stream().sorted().forEach(v -> out.add(e.getKey() + "=" + v));
    }
    return out.toString();
  }
}
