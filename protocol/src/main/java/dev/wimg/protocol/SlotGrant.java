package dev.wimg.protocol;

/**
 * The trackers' answer to a {@link SlotClaim}: the body of a 200 to {@code POST /cluster/slots},
 * as JSON with these field names.
 *
 * <pre>
 *   {"group": 1, "node": "90c4…", "slot": 1}
 * </pre>
 *
 * @param group the group asked for
 * @param node  the node asked for
 * @param slot  its slot, {@value #MIN_GRANTED}..{@value #MAX_SLOT}; the same for every later claim
 *              of this node in this group
 */
public record SlotGrant(int group, String node, int slot) {

  /** Largest slot: a slot is the high 8 bits of a 24-bit volume id. */
  public static final int MAX_SLOT = 255;
  /**
   * Smallest slot the trackers grant: slot 0 is the all-in-one server's and every folder's made
   * before slots existed, so that such folders keep their volume ids.
   */
  public static final int MIN_GRANTED = 1;

  public SlotGrant {
    if (group < 1 || group > Fid.MAX_GROUP) {
      throw new IllegalArgumentException("group must be 1.." + Fid.MAX_GROUP + ", got " + group);
    }
    Heartbeat.text("node", node);
    if (slot < MIN_GRANTED || slot > MAX_SLOT) {
      throw new IllegalArgumentException("slot must be " + MIN_GRANTED + ".." + MAX_SLOT
          + ", got " + slot);
    }
  }
}
