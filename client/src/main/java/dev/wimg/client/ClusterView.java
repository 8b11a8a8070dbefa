package dev.wimg.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A tracker's view of the cluster, its answer to {@code GET /cluster} (see
 * {@link WimgClient#cluster()}):
 *
 * <pre>
 * {"groups":[{"id":1,"writable":true,"members":[{"id":"3f1c...","url":"http://127.0.0.1:9401",
 *    "zone":"default","state":"serving","freeBytes":123456789,"load":0,"needles":42,
 *    "silentMillis":310}]}],
 *  "trackers":["http://127.0.0.1:9400","http://127.0.0.1:9410"]}
 * </pre>
 *
 * <p>Fields this class does not know are ignored (a newer tracker may send more). Required are
 * {@code groups}, each group's {@code id}, and each member's {@code url} and {@code state}; any
 * other field may be missing, and then reads as described on {@link Group} and {@link Member}.
 * {@link #document()} keeps the answer as it came, unknown fields included.
 *
 * <p>Immutable.
 */
public final class ClusterView {

  private final List<Group> groups;
  private final List<URI> trackers;
  private final JsonNode document;

  private ClusterView(List<Group> groups, List<URI> trackers, JsonNode document) {
    this.groups = List.copyOf(groups);
    this.trackers = List.copyOf(trackers);
    this.document = document.deepCopy();
  }

  /** The storage groups, in the tracker's order. */
  public List<Group> groups() {
    return groups;
  }

  /** The trackers the answering tracker knows, itself included; empty if it sent none. */
  public List<URI> trackers() {
    return trackers;
  }

  /** The JSON document as the tracker sent it (a copy), unknown fields included. */
  public JsonNode document() {
    return document.deepCopy();
  }

  /**
   * Reads a {@code /cluster} document.
   *
   * @throws IllegalArgumentException naming the first field that is missing or of the wrong type
   */
  static ClusterView parse(JsonNode document) {
    Objects.requireNonNull(document, "document");
    JsonNode groupsNode = document.path("groups");
    if (!groupsNode.isArray()) {
      throw new IllegalArgumentException("\"groups\" must be an array");
    }
    List<Group> groups = new ArrayList<>();
    for (int g = 0; g < groupsNode.size(); g++) {
      groups.add(group(groupsNode.get(g), "groups[" + g + "]"));
    }
    List<URI> trackers = new ArrayList<>();
    JsonNode trackersNode = document.path("trackers");
    if (!trackersNode.isMissingNode() && !trackersNode.isNull()) {
      if (!trackersNode.isArray()) {
        throw new IllegalArgumentException("\"trackers\" must be an array");
      }
      for (int t = 0; t < trackersNode.size(); t++) {
        trackers.add(url(trackersNode.get(t), "trackers[" + t + "]"));
      }
    }
    return new ClusterView(groups, trackers, document);
  }

  private static Group group(JsonNode node, String where) {
    if (!node.isObject()) {
      throw new IllegalArgumentException(where + " must be an object");
    }
    JsonNode id = node.path("id");
    if (!id.canConvertToInt() || !id.isIntegralNumber()) {
      throw new IllegalArgumentException(where + ".id must be a whole number");
    }
    JsonNode membersNode = node.path("members");
    List<Member> members = new ArrayList<>();
    if (!membersNode.isMissingNode() && !membersNode.isNull()) {
      if (!membersNode.isArray()) {
        throw new IllegalArgumentException(where + ".members must be an array");
      }
      for (int m = 0; m < membersNode.size(); m++) {
        members.add(member(membersNode.get(m), where + ".members[" + m + "]"));
      }
    }
    return new Group(id.intValue(), node.path("writable").asBoolean(false), members);
  }

  private static Member member(JsonNode node, String where) {
    if (!node.isObject()) {
      throw new IllegalArgumentException(where + " must be an object");
    }
    JsonNode state = node.path("state");
    if (!state.isTextual() || state.asText().isBlank()) {
      throw new IllegalArgumentException(where + ".state must be a text");
    }
    return new Member(
        node.path("id").isTextual() ? node.get("id").asText() : "",
        url(node.path("url"), where + ".url"),
        node.path("zone").isTextual() ? node.get("zone").asText() : "",
        state.asText(),
        count(node.path("freeBytes")),
        node.path("load").isNumber() ? node.get("load").asDouble() : Double.NaN,
        count(node.path("needles")),
        count(node.path("silentMillis")));
  }

  /** A whole number of at least 0, or -1 if missing or not one. */
  private static long count(JsonNode node) {
    return node.isIntegralNumber() && node.canConvertToLong() && node.asLong() >= 0 ? node.asLong() : -1;
  }

  private static URI url(JsonNode node, String where) {
    if (!node.isTextual()) {
      throw new IllegalArgumentException(where + " must be a URL text");
    }
    try {
      return new URI(node.asText());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(where + " is not a URL: " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "ClusterView" + groups + " trackers " + trackers;
  }

  /**
   * A storage group: members that hold the same files.
   *
   * @param id       the group number, the {@code G} of fids {@code G-V,...}
   * @param writable whether the tracker places uploads in it (false if the tracker did not say)
   * @param members  its storage nodes, in the tracker's order
   */
  public record Group(int id, boolean writable, List<Member> members) {
    public Group {
      members = List.copyOf(members);
    }
  }

  /**
   * A storage node as the tracker last heard of it.
   *
   * @param id           the node id, kept in its data folder; empty if not sent
   * @param url          where the node serves files
   * @param zone         its zone; empty if not sent
   * @param state        {@code serving}, {@code catching-up}, {@code read-only} or {@code down}
   *                     (or a state newer than this class, kept as sent)
   * @param freeBytes    free disk space for its volumes, bytes; -1 if not sent
   * @param load         its load as the tracker measures it; NaN if not sent
   * @param needles      files it holds; -1 if not sent
   * @param silentMillis milliseconds since its last heartbeat reached the tracker; -1 if not sent
   */
  public record Member(String id, URI url, String zone, String state, long freeBytes, double load,
                       long needles, long silentMillis) {
    /** The state of a member that answers reads and takes uploads. */
    public static final String SERVING = "serving";
    /** The state of a member copying what it missed from its peers; it serves nothing yet. */
    public static final String CATCHING_UP = "catching-up";
    /** The state of a member that serves reads but takes no uploads (e.g. its disk is full). */
    public static final String READ_ONLY = "read-only";
    /** The state of a member whose heartbeats stopped. */
    public static final String DOWN = "down";

    public Member {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(url, "url");
      Objects.requireNonNull(zone, "zone");
      Objects.requireNonNull(state, "state");
    }
  }
}
