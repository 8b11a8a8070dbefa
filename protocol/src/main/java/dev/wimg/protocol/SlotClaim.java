package dev.wimg.protocol;

/**
 * A storage node asking the trackers for its slot in its group: the body of
 * {@code POST /cluster/slots}, as JSON with these field names, sent once, on the node's first start
 * (docs/CLUSTER.md, "Fids without a central allocator"). Answered with a {@link SlotGrant}.
 *
 * <pre>
 *   {"group": 1, "node": "90c4…"}
 * </pre>
 *
 * @param group the node's storage group, 1..{@value Fid#MAX_GROUP}
 * @param node  the node's id, kept in its data folder; asking again with the same id is answered
 *              with the same slot
 */
public record SlotClaim(int group, String node) {

  public SlotClaim {
    if (group < 1 || group > Fid.MAX_GROUP) {
      throw new IllegalArgumentException("group must be 1.." + Fid.MAX_GROUP + ", got " + group);
    }
    Heartbeat.text("node", node);
  }
}
