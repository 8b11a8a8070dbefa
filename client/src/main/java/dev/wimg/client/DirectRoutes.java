package dev.wimg.client;

import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Which storage nodes a client sends requests to itself, read from a tracker's
 * {@link ClusterView}: for each group, the members that serve reads (state {@code serving} or
 * {@code read-only}); for uploads, the {@code serving} members of the groups the tracker marks
 * {@code writable}. Members are ordered least loaded first; members of equal load (or with no load
 * sent) keep the tracker's order. A member whose URL is not an {@code http}/{@code https} base URL
 * is left out, and so is an {@code http} member when {@code httpsOnly} (the client was given
 * {@code https} URLs and must not send its write key unencrypted).
 *
 * <p>Immutable, so shared between threads without locking.
 */
final class DirectRoutes {

  /** No routes: every request goes through the client's URL list (a single server, or no view). */
  static final DirectRoutes NONE = new DirectRoutes(Map.of(), List.of());

  private static final Comparator<ClusterView.Member> LEAST_LOADED =
      Comparator.comparingDouble(ClusterView.Member::load); // NaN sorts last

  /** Group id to the base URLs of its members that serve reads, least loaded first. */
  private final Map<Integer, List<URI>> readers;
  /** For each writable group with a serving member, in the tracker's order: those members, least loaded first. */
  private final List<List<URI>> writers;

  private DirectRoutes(Map<Integer, List<URI>> readers, List<List<URI>> writers) {
    this.readers = readers;
    this.writers = writers;
  }

  /** The routes of {@code view}; see the class comment for {@code httpsOnly}. */
  static DirectRoutes of(ClusterView view, boolean httpsOnly) {
    Map<Integer, List<URI>> readers = new HashMap<>();
    List<List<URI>> writers = new ArrayList<>();
    for (ClusterView.Group group : view.groups()) {
      List<URI> read = urls(group, httpsOnly, state ->
          state.equals(ClusterView.Member.SERVING) || state.equals(ClusterView.Member.READ_ONLY));
      if (!read.isEmpty()) {
        readers.merge(group.id(), read, (a, b) -> {
          List<URI> both = new ArrayList<>(a);
          both.addAll(b);
          return List.copyOf(both);
        });
      }
      if (group.writable()) {
        List<URI> write = urls(group, httpsOnly, ClusterView.Member.SERVING::equals);
        if (!write.isEmpty()) {
          writers.add(write);
        }
      }
    }
    return new DirectRoutes(Map.copyOf(readers), List.copyOf(writers));
  }

  private static List<URI> urls(ClusterView.Group group, boolean httpsOnly, Predicate<String> state) {
    List<ClusterView.Member> members = new ArrayList<>();
    for (ClusterView.Member m : group.members()) {
      if (state.test(m.state())) {
        members.add(m);
      }
    }
    members.sort(LEAST_LOADED); // stable: equal loads keep the tracker's order
    List<URI> urls = new ArrayList<>(members.size());
    for (ClusterView.Member m : members) {
      URI url;
      try {
        url = WimgClient.baseUrl(m.url());
      } catch (IllegalArgumentException notABaseUrl) {
        continue; // a member the client cannot address; the tracker's redirect still reaches it
      }
      if (httpsOnly && !url.getScheme().equalsIgnoreCase("https")) {
        continue;
      }
      if (!urls.contains(url)) {
        urls.add(url);
      }
    }
    return urls;
  }

  /** Whether there is any node to ask directly. */
  boolean isEmpty() {
    return readers.isEmpty() && writers.isEmpty();
  }

  /**
   * The members of {@code group} to ask for one of its files, in order, without those
   * {@code skip} accepts; empty if the view has none.
   */
  List<URI> readers(int group, Predicate<URI> skip) {
    List<URI> all = readers.getOrDefault(group, List.of());
    List<URI> left = new ArrayList<>(all.size());
    for (URI url : all) {
      if (!skip.test(url)) {
        left.add(url);
      }
    }
    return left;
  }

  /**
   * The nodes to send an upload to, in order, at most {@code max}, without those {@code skip}
   * accepts. The writable groups take turns: {@code turn} (a counter the caller increments for
   * each upload) picks the group tried first, so consecutive uploads start in consecutive groups.
   * The next tries go to the other groups before a second member of the same group, because a
   * group's refusal (too few live members for its copies, say) is as likely as a node's.
   */
  List<URI> uploadTargets(int turn, int max, Predicate<URI> skip) {
    List<URI> targets = new ArrayList<>(max);
    int groups = writers.size();
    if (groups == 0) {
      return targets;
    }
    int first = Math.floorMod(turn, groups);
    List<List<URI>> rotated = new ArrayList<>(groups);
    for (int i = 0; i < groups; i++) {
      List<URI> members = new ArrayList<>();
      for (URI url : writers.get((first + i) % groups)) {
        if (!skip.test(url)) {
          members.add(url);
        }
      }
      rotated.add(members);
    }
    for (int rank = 0; targets.size() < max; rank++) {
      boolean any = false;
      for (List<URI> members : rotated) {
        if (rank < members.size()) {
          any = true;
          if (targets.size() < max) {
            targets.add(members.get(rank));
          }
        }
      }
      if (!any) {
        break;
      }
    }
    return targets;
  }
}
