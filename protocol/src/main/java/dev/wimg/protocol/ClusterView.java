package dev.wimg.protocol;

import java.util.List;
import java.util.Objects;

/**
 * A tracker's view of the cluster: the body of {@code GET /cluster}, as JSON with these field
 * names. Groups are in id order, members by id.
 *
 * <pre>
 * {"version": 1,
 *  "groups": [{"id": 1, "writable": true,
 *              "members": [{"id": "...", "url": "http://...", "zone": "...", "state": "serving",
 *                           "freeBytes": 123, "load": 0, "needles": 42, "silentMillis": 310}]}],
 *  "trackers": ["http://..."]}
 * </pre>
 *
 * <p>Version history: 1, 5 December 2026: the fields above. Readers ignore fields they do not
 * know, so a field may be added within a version.
 *
 * @param version  {@value #VERSION}
 * @param groups   every group a node has heartbeated for
 * @param trackers the trackers this one knows: itself first, then its peers
 */
public record ClusterView(int version, List<Group> groups, List<String> trackers) {

  /** The version this build writes. */
  public static final int VERSION = 1;

  /** A view of this build's {@link #VERSION}. */
  public static ClusterView of(List<Group> groups, List<String> trackers) {
    return new ClusterView(VERSION, groups, trackers);
  }

  public ClusterView {
    groups = List.copyOf(Objects.requireNonNull(groups, "groups"));
    trackers = List.copyOf(Objects.requireNonNull(trackers, "trackers"));
  }

  /**
   * One storage group.
   *
   * @param id       the group number in its fids
   * @param writable whether a member of it is {@code serving}, so uploads can go there
   * @param members  its nodes, down ones included
   */
  public record Group(int id, boolean writable, List<Member> members) {
    public Group {
      members = List.copyOf(Objects.requireNonNull(members, "members"));
    }
  }

  /**
   * One storage node as the tracker last heard of it.
   *
   * @param id          its node id
   * @param slot        its slot in the group (the high 8 bits of the volume ids it writes)
   * @param url         where it is reached
   * @param zone        its zone
   * @param state       {@link MemberState#token()}: what it reported, or {@code down} when its
   *                    heartbeats stopped
   * @param freeBytes   bytes it may still write
   * @param load        requests it had in progress
   * @param needles     needles it holds
   * @param silentMillis milliseconds since its last heartbeat reached this tracker
   */
  public record Member(String id, int slot, String url, String zone, String state, long freeBytes, int load,
                       long needles, long silentMillis) {}
}
