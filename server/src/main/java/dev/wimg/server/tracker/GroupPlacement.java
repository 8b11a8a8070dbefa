package dev.wimg.server.tracker;

/** How a tracker picks the group of an upload among the groups that take uploads. */
public enum GroupPlacement {
  /**
   * The group whose fullest member has the most free bytes (the default); groups within a tenth
   * of that take turns.
   */
  FREE_SPACE,
  /** Each group in turn. */
  ROUND_ROBIN,
  /** The group whose members have the fewest requests in progress, on average. */
  LEAST_LOAD
}
