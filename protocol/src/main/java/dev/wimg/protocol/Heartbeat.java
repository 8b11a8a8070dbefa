package dev.wimg.protocol;

import java.util.List;
import java.util.Objects;

/**
 * What a storage node tells every tracker it is given, once a second: the body of
 * {@code POST /cluster/heartbeat}, as JSON with these field names. Trackers keep no other state
 * about the node, so a restarted tracker knows the whole cluster again after one round.
 *
 * @param group     the node's storage group, 1..{@value Fid#MAX_GROUP}
 * @param node      the node's id, made on its first start and kept in its data folder
 * @param slot      the node's slot in its group, 0..{@value SlotGrant#MAX_SLOT}: the high 8 bits of
 *                  the ids of the volumes it writes (docs/CLUSTER.md); 0 when absent from the JSON
 *                  (nodes built before slots)
 * @param url       where clients and peers reach the node, {@code http://host:port}
 * @param zone      the node's zone (a rack, a data centre), {@code default} if none was given
 * @param state     {@link MemberState#token()} of what the node does now ({@code down} is never sent)
 * @param freeBytes bytes the node may still write
 * @param usedBytes bytes of its volume files
 * @param needles   needles it holds
 * @param load      requests in progress on the node now
 * @param volumes   the ids of its volumes
 */
public record Heartbeat(int group, String node, int slot, String url, String zone, String state,
                        long freeBytes, long usedBytes, long needles, int load,
                        List<Integer> volumes) {

  /** Longest node id, zone or URL accepted, characters. */
  public static final int MAX_TEXT_LENGTH = 256;

  public Heartbeat {
    if (group < 1 || group > Fid.MAX_GROUP) {
      throw new IllegalArgumentException("group must be 1.." + Fid.MAX_GROUP + ", got " + group);
    }
    text("node", node);
    if (slot < 0 || slot > SlotGrant.MAX_SLOT) {
      throw new IllegalArgumentException("slot must be 0.." + SlotGrant.MAX_SLOT + ", got " + slot);
    }
    text("url", url);
    if (!url.startsWith("http://") && !url.startsWith("https://")) {
      throw new IllegalArgumentException("url must start with http:// or https://, got \"" + url + "\"");
    }
    text("zone", zone);
    if (MemberState.parse(Objects.requireNonNull(state, "state")) == MemberState.DOWN) {
      throw new IllegalArgumentException("a node cannot report itself down");
    }
    if (freeBytes < 0 || usedBytes < 0 || needles < 0 || load < 0) {
      throw new IllegalArgumentException("freeBytes, usedBytes, needles and load must be >= 0");
    }
    volumes = List.copyOf(Objects.requireNonNull(volumes, "volumes"));
  }

  /** Checks a node id, zone or URL: printable ASCII, 1..{@value #MAX_TEXT_LENGTH} characters. */
  static void text(String field, String value) {
    Objects.requireNonNull(value, field);
    if (value.isBlank() || value.length() > MAX_TEXT_LENGTH) {
      throw new IllegalArgumentException(field + " must be 1.." + MAX_TEXT_LENGTH
          + " characters and not blank, got \"" + value + "\"");
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        throw new IllegalArgumentException(field + " must be printable ASCII without spaces, got \""
            + value + "\"");
      }
    }
  }
}
