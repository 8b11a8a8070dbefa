package dev.wimg.protocol;

import java.util.List;
import java.util.Objects;

/**
 * What a storage node tells every tracker it is given, once a second: the body of
 * {@code POST /cluster/heartbeat}, as JSON with these field names. Trackers keep no other state
 * about the node, so a restarted tracker knows the whole cluster again after one round.
 *
 * <pre>
 * field      JSON type         meaning
 * version    number            {@value #VERSION}; a tracker refuses others, naming the range it reads
 * group      number            the node's storage group, 1..65535
 * node       string            the node's id, made on its first start and kept in its data folder
 * slot       number            the node's slot in its group, 0..{@value SlotGrant#MAX_SLOT}: the high
 *                              8 bits of the ids of the volumes it writes (docs/CLUSTER.md)
 * url        string            where clients and peers reach the node, http(s)://host:port
 * zone       string            the node's zone (a rack, a data centre); "default" if none
 * state      string            {@link MemberState#token()}: serving, catching-up or read-only
 * freeBytes  number            bytes the node may still write
 * usedBytes  number            bytes of its volume files
 * needles    number            needles it holds
 * load       number            requests in progress on the node now
 * volumes    array of numbers  the ids of its volumes that hold a needle
 * copies     number            members of its group, itself included, that must hold a write before
 *                              it acknowledges it (its --copies); absent or 0 reads as 1
 * </pre>
 *
 * <p>Version history: 1, 5 December 2026: the fields above ({@code copies} added the same day,
 * before any release; a heartbeat without it reads as a node that needs no copy elsewhere).
 */
public record Heartbeat(int version, int group, String node, int slot, String url, String zone,
                        String state, long freeBytes, long usedBytes, long needles, int load,
                        List<Integer> volumes, int copies) {

  /** The version this build writes and reads. */
  public static final int VERSION = 1;

  /** Longest node id, zone or URL accepted, characters. */
  public static final int MAX_TEXT_LENGTH = 256;

  public Heartbeat {
    if (version != VERSION) {
      throw new IllegalArgumentException("heartbeat version " + version + " is not read here;"
          + " this build reads " + VERSION + ".." + VERSION);
    }
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
    if (copies < 0 || copies > SlotGrant.MAX_SLOT) {
      throw new IllegalArgumentException("copies must be 0.." + SlotGrant.MAX_SLOT + ", got " + copies);
    }
    copies = Math.max(1, copies);
  }

  /** A heartbeat of this build's {@link #VERSION}, of a node that needs no copy elsewhere. */
  public static Heartbeat of(int group, String node, int slot, String url, String zone,
                             String state, long freeBytes, long usedBytes, long needles, int load,
                             List<Integer> volumes) {
    return of(group, node, slot, url, zone, state, freeBytes, usedBytes, needles, load, volumes, 1);
  }

  /** A heartbeat of this build's {@link #VERSION}. */
  public static Heartbeat of(int group, String node, int slot, String url, String zone,
                             String state, long freeBytes, long usedBytes, long needles, int load,
                             List<Integer> volumes, int copies) {
    return new Heartbeat(VERSION, group, node, slot, url, zone, state, freeBytes, usedBytes,
        needles, load, volumes, copies);
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
