package dev.wimg.protocol;

import java.util.Locale;

/**
 * What a storage node is doing for its group, as it reports it to the trackers and as
 * {@code GET /cluster} shows it.
 *
 * <p>Transitions, all in one place:
 * <pre>
 * from          to            when
 * (start)       serving       the node opened its volumes (and, once replication exists, holds
 *                             everything its group acknowledged)
 * (start)       catching-up   (with replication) it missed records of its group while down
 * catching-up   serving       it holds every record its peers acknowledged, each checked
 * serving       read-only     a volume is in doubt (needsCheck), or free space is below the reserve
 * read-only     serving       the cause is gone (space freed; the volume checked)
 * any           down          a tracker heard nothing for --down-after (set by the tracker only)
 * down          any           a heartbeat arrives again
 * </pre>
 */
public enum MemberState {
  /** Holds what its group acknowledged and takes reads and writes. */
  SERVING,
  /** Back after downtime or new in its group: copying what it missed from its peers; no reads. */
  CATCHING_UP,
  /** Serves reads but takes no writes: its disk is below the free-space reserve, or a volume is in doubt. */
  READ_ONLY,
  /** Missed its heartbeats: set by a tracker, never reported by the node itself. */
  DOWN;

  /** The wire form: lower case, words joined by {@code -} ({@code catching-up}). */
  public String token() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /**
   * The state of a wire token.
   *
   * @throws IllegalArgumentException naming the token and the known ones
   */
  public static MemberState parse(String token) {
    for (MemberState state : values()) {
      if (state.token().equals(token)) {
        return state;
      }
    }
    throw new IllegalArgumentException("state must be one of serving, catching-up, read-only, down,"
        + " got \"" + token + "\"");
  }
}
