package dev.wimg.cli.internal;

import dev.wimg.protocol.Fid;
import dev.wimg.protocol.Heartbeat;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A target of {@code wimg distribute --to}: the nodes a tracker resolves it to when it makes the
 * task (docs/DISTRIBUTION.md, Model).
 *
 * <pre>
 * form        names                                   checked here
 * zone:NAME   every live node of zone NAME            NAME as a heartbeat's zone: printable ASCII, no spaces
 * group:N     every live member of storage group N    N a group number, 1..{@value Fid#MAX_GROUP}
 * node:ID     the node with id ID                     ID as a heartbeat's node id
 * </pre>
 *
 * <p>The kind is case-insensitive and sent in lower case; a group number is sent without leading
 * zeros. Checked here so that a typo is a usage error before anything is sent; whether the zone,
 * group or node exists only the tracker knows.
 */
public final class TaskTargetConverter implements ITypeConverter<String> {

  /** What every refusal ends with: the accepted forms. */
  static final String FORMS = "use zone:NAME, group:N (1-" + Fid.MAX_GROUP + ") or node:ID";

  @Override
  public String convert(String value) {
    return parse(value);
  }

  /**
   * @return {@code value} in the form the tracker reads: {@code zone:edge}, {@code group:3},
   *     {@code node:90c4}
   * @throws TypeConversionException naming the value and the accepted forms
   */
  public static String parse(String value) {
    int colon = value.indexOf(':');
    if (colon < 0) {
      throw refused(value, "");
    }
    String kind = value.substring(0, colon).toLowerCase(Locale.ROOT);
    String name = value.substring(colon + 1);
    return switch (kind) {
      case "zone", "node" -> kind + ":" + text(value, name);
      case "group" -> "group:" + group(value, name);
      default -> throw refused(value, "");
    };
  }

  /** A zone or node id as a heartbeat carries it (see {@link Heartbeat}). */
  private static String text(String value, String name) {
    if (name.isEmpty()) {
      throw refused(value, " (nothing after the colon)");
    }
    if (name.length() > Heartbeat.MAX_TEXT_LENGTH) {
      throw refused(value, " (longer than " + Heartbeat.MAX_TEXT_LENGTH + " characters)");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        throw refused(value, " (a name is printable ASCII without spaces)");
      }
    }
    return name;
  }

  private static int group(String value, String number) {
    if (number.isEmpty() || number.length() > 9 || !number.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw refused(value, " (a group is a number)");
    }
    int group = Integer.parseInt(number);
    if (group < 1 || group > Fid.MAX_GROUP) {
      throw refused(value, " (no group " + group + ")");
    }
    return group;
  }

  private static TypeConversionException refused(String value, String why) {
    return new TypeConversionException("'" + value + "' is not a target" + why + ": " + FORMS);
  }
}
