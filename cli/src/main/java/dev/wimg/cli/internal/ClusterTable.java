package dev.wimg.cli.internal;

import dev.wimg.client.ClusterView;
import dev.wimg.client.ClusterView.Group;
import dev.wimg.client.ClusterView.Member;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A tracker's {@link ClusterView} as text a person reads at a glance: one row per storage node,
 * grouped as the tracker lists them, then a summary line and the trackers.
 *
 * <pre>
 * GROUP  WRITABLE  MEMBER    URL                    ZONE     STATE    FREE       LOAD  NEEDLES  LAST HEARD
 * 1      yes       3f1c0a9b  http://127.0.0.1:9401  default  serving  117.7 MiB     0       42   0.3 s ago
 * 1      yes       77aa0b1c  http://127.0.0.1:9402  default  down     117.7 MiB     0       42    12 s ago
 *
 * 1 group (1 writable), 2 members: 1 serving, 1 down
 * trackers: http://127.0.0.1:9400, http://127.0.0.1:9410
 * </pre>
 *
 * <p>A member id is cut to its first {@value #MEMBER_ID_CHARS} characters (enough to tell nodes
 * apart, as a short git hash is); free space is in powers of 1024; a value the tracker did not
 * send is {@code -}. Text from the tracker is printed with control characters replaced, so a
 * hostile answer cannot drive the terminal.
 */
final class ClusterTable {

  /** Characters of a member id shown. */
  static final int MEMBER_ID_CHARS = 8;
  private static final String[] HEADER = {"GROUP", "WRITABLE", "MEMBER", "URL", "ZONE", "STATE",
      "FREE", "LOAD", "NEEDLES", "LAST HEARD"};
  /** Which columns are numbers, aligned right. */
  private static final boolean[] RIGHT = {false, false, false, false, false, false, true, true, true, true};

  private ClusterTable() {}

  /** The table, the summary and the trackers, each line ending with a newline. */
  static String render(ClusterView view) {
    List<String[]> rows = new ArrayList<>();
    rows.add(HEADER);
    Map<String, Integer> states = new TreeMap<>();
    int members = 0;
    int writable = 0;
    for (Group g : view.groups()) {
      writable += g.writable() ? 1 : 0;
      String group = Integer.toString(g.id());
      String canWrite = g.writable() ? "yes" : "no";
      if (g.members().isEmpty()) {
        rows.add(new String[] {group, canWrite, "-", "-", "-", "no members", "-", "-", "-", "-"});
      }
      for (Member m : g.members()) {
        members++;
        states.merge(TextTable.printable(m.state()), 1, Integer::sum);
        rows.add(new String[] {group, canWrite, shortId(m.id()), TextTable.printable(m.url().toString()),
            m.zone().isEmpty() ? "-" : TextTable.printable(m.zone()), TextTable.printable(m.state()),
            TextTable.bytes(m.freeBytes()), load(m.load()), m.needles() < 0 ? "-" : Long.toString(m.needles()),
            heard(m.silentMillis())});
      }
    }
    StringBuilder out = new StringBuilder();
    TextTable.appendAligned(rows, RIGHT, out);
    out.append('\n').append(count(view.groups().size(), "group")).append(" (").append(writable)
        .append(" writable), ").append(count(members, "member"));
    String sep = ": ";
    for (Map.Entry<String, Integer> e : states.entrySet()) {
      out.append(sep).append(e.getValue()).append(' ').append(e.getKey());
      sep = ", ";
    }
    out.append('\n');
    List<String> trackers = view.trackers().stream().map(URI::toString).map(TextTable::printable).toList();
    out.append("trackers: ").append(trackers.isEmpty() ? "-" : String.join(", ", trackers)).append('\n');
    return out.toString();
  }

  private static String count(int n, String noun) {
    return n + " " + noun + (n == 1 ? "" : "s");
  }

  private static String shortId(String id) {
    if (id.isEmpty()) {
      return "-";
    }
    return TextTable.printable(id.length() <= MEMBER_ID_CHARS ? id : id.substring(0, MEMBER_ID_CHARS));
  }

  /** A whole load as a whole number, else with two decimals; {@code -} for unknown (NaN). */
  static String load(double load) {
    if (Double.isNaN(load)) {
      return "-";
    }
    if (load == Math.rint(load) && Math.abs(load) < 1e15) {
      return Long.toString((long) load);
    }
    return String.format(Locale.ROOT, "%.2f", load);
  }

  /** How long ago the tracker last heard from a member, in the largest unit that keeps it short. */
  static String heard(long silentMillis) {
    if (silentMillis < 0) {
      return "-";
    }
    if (silentMillis < 10_000) {
      return String.format(Locale.ROOT, "%.1f s ago", silentMillis / 1000.0);
    }
    long seconds = silentMillis / 1000;
    if (seconds < 120) {
      return seconds + " s ago";
    }
    long minutes = seconds / 60;
    if (minutes < 120) {
      return minutes + " min ago";
    }
    long hours = minutes / 60;
    return hours < 48 ? hours + " h ago" : hours / 24 + " d ago";
  }
}
