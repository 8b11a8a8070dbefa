package dev.wimg.protocol;

/**
 * Where one target of a distribution task is. JSON: the lowercase token.
 *
 * <pre>
 * from               to        when                                              kept by
 * (creation)         offered   the tracker made the task                          tracker
 * offered            accepted  the node kept the definition on its disk           node (task file)
 * accepted           fetching  its first piece is verified                        node (reports)
 * fetching           done      every piece verified and the pinned copy durable   node (task file)
 * accepted, fetching failed    no space; the file is gone at its source; cancelled node (task file)
 * any but done/failed down     no report for the tracker's --down-after           tracker
 * </pre>
 */
public enum TargetState {
  OFFERED, ACCEPTED, FETCHING, DONE, FAILED, DOWN;

  /** The JSON token. */
  public String token() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The state a token names. */
  public static TargetState parse(String token) {
    for (TargetState s : values()) {
      if (s.token().equals(token)) {
        return s;
      }
    }
    throw new IllegalArgumentException("unknown target state \"" + token + "\"");
  }

  /** Whether the target has ended, well or not. */
  public boolean ended() {
    return this == DONE || this == FAILED;
  }
}
