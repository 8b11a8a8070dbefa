package dev.wimg.server.internal.http;

/**
 * Whether this storage node may take uploads now. The all-in-one server always may
 * ({@link #standalone()}); a node of a cluster may only once a tracker accepted it as its group's
 * member, and not after a tracker refused it (docs/CLUSTER.md): two nodes that both wrote the
 * volumes of one group would hand out the same fids. Trackers that cannot be reached change
 * nothing, so a node goes on taking uploads while every tracker restarts.
 */
public final class Membership {

  private final boolean standalone;
  private volatile String refusal;
  /** Why the node's free space is too low for uploads, or null. */
  private volatile String lowSpace;

  private Membership(boolean standalone, String refusal) {
    this.standalone = standalone;
    this.refusal = refusal;
  }

  /** A node that is its own cluster: it always takes uploads. */
  public static Membership standalone() {
    return new Membership(true, null);
  }

  /** A node of a cluster that has not been accepted by a tracker yet. */
  public static Membership awaitingTracker(int group) {
    return new Membership(false, "this storage node takes no uploads until a tracker accepts it"
        + " as a member of group " + group);
  }

  /** Whether uploads are taken now. */
  public boolean takesUploads() {
    return refusal == null && lowSpace == null;
  }

  /** Why no tracker lets this node take uploads (a 503's message), or null. */
  public String refusal() {
    return refusal;
  }

  /** Why the node's free space is below its reserve (a 507's message), or null. */
  public String lowSpace() {
    return lowSpace;
  }

  /**
   * The node's free space against its reserve: below it the node is {@code read-only} and takes
   * no uploads until space is freed.
   */
  public void space(long freeBytes, long reserveBytes) {
    lowSpace = freeBytes >= reserveBytes ? null : "this storage node is read-only: its free space, "
        + freeBytes + " bytes, is below its reserve of " + reserveBytes + " bytes";
  }

  /** A tracker accepted the node's heartbeat. */
  public void accepted() {
    refusal = null;
  }

  /** A tracker refused the node's heartbeat, saying why. */
  public void refused(String why) {
    if (!standalone) {
      refusal = "this storage node takes no uploads: a tracker refused it: " + why;
    }
  }
}
