package dev.wimg.server.tracker;

/** How a tracker picks the member of the chosen group that receives an upload. */
public enum MemberPlacement {
  /** The member with the fewest requests in progress (the default). */
  LEAST_LOAD,
  /**
   * A member in the client's zone ({@code X-Wimg-Zone} request header) when there is one, the
   * least loaded of them; otherwise as {@link #LEAST_LOAD}.
   */
  NEAREST
}
