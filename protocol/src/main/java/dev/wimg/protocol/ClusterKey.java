package dev.wimg.protocol;

/**
 * How processes of a cluster prove they belong to it: every heartbeat, slot claim and (later)
 * replication request carries the cluster's shared secret in this header, and a tracker or node
 * that has one refuses requests without it (one that has none takes them from loopback only).
 */
public final class ClusterKey {

  /** The request header that carries the cluster key. */
  public static final String HEADER = "X-Wimg-Cluster-Key";

  private ClusterKey() {
  }
}
