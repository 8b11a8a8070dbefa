package dev.wimg.server.tracker;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Settings of a {@link TrackerServer}.
 *
 * @param bind            address to listen on
 * @param port            TCP port; 0 picks a free one
 * @param peers           the other trackers, listed in {@code /cluster} so that clients learn them
 * @param downAfter       how long a storage node may miss heartbeats before it is {@code down}
 * @param clusterKey      secret storage nodes send with their heartbeats, or null: then only
 *                        heartbeats from loopback addresses are taken
 * @param groupPlacement  how the group of an upload is chosen
 * @param memberPlacement how the member of that group is chosen
 * @param maxUploadBytes  largest upload the tracker passes on (it holds the body in memory so that
 *                        it can send it to another node when the first fails); larger ones get 413
 *                        and go to a storage node directly
 */
public record TrackerConfig(String bind, int port, List<URI> peers, Duration downAfter,
                            String clusterKey, GroupPlacement groupPlacement,
                            MemberPlacement memberPlacement, long maxUploadBytes) {

  /** Default port of a tracker. */
  public static final int DEFAULT_PORT = 9330;
  /** Default {@link #downAfter()}: five missed heartbeats. */
  public static final Duration DEFAULT_DOWN_AFTER = Duration.ofSeconds(5);
  /** Default {@link #maxUploadBytes()}: 16 MiB. */
  public static final long DEFAULT_MAX_UPLOAD_BYTES = 16L << 20;

  public TrackerConfig {
    Objects.requireNonNull(bind, "bind");
    peers = List.copyOf(Objects.requireNonNull(peers, "peers"));
    Objects.requireNonNull(downAfter, "downAfter");
    Objects.requireNonNull(groupPlacement, "groupPlacement");
    Objects.requireNonNull(memberPlacement, "memberPlacement");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port must be 0..65535, got " + port);
    }
    if (downAfter.compareTo(Duration.ofMillis(100)) < 0) {
      throw new IllegalArgumentException("downAfter must be at least 100 ms, got " + downAfter);
    }
    if (clusterKey != null && clusterKey.isBlank()) {
      throw new IllegalArgumentException("clusterKey must not be blank");
    }
    if (maxUploadBytes < 0 || maxUploadBytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("maxUploadBytes must be 0.." + Integer.MAX_VALUE
          + ", got " + maxUploadBytes);
    }
  }

  /** The defaults: loopback, {@value #DEFAULT_PORT}, no peers, no cluster key. */
  public static TrackerConfig defaults() {
    return new TrackerConfig("127.0.0.1", DEFAULT_PORT, List.of(), DEFAULT_DOWN_AFTER, null,
        GroupPlacement.FREE_SPACE, MemberPlacement.LEAST_LOAD, DEFAULT_MAX_UPLOAD_BYTES);
  }

  public TrackerConfig withBind(String b) {
    return new TrackerConfig(b, port, peers, downAfter, clusterKey, groupPlacement,
        memberPlacement, maxUploadBytes);
  }

  public TrackerConfig withPort(int p) {
    return new TrackerConfig(bind, p, peers, downAfter, clusterKey, groupPlacement,
        memberPlacement, maxUploadBytes);
  }

  public TrackerConfig withPeers(List<URI> list) {
    return new TrackerConfig(bind, port, list, downAfter, clusterKey, groupPlacement,
        memberPlacement, maxUploadBytes);
  }

  public TrackerConfig withDownAfter(Duration d) {
    return new TrackerConfig(bind, port, peers, d, clusterKey, groupPlacement, memberPlacement,
        maxUploadBytes);
  }

  public TrackerConfig withClusterKey(String key) {
    return new TrackerConfig(bind, port, peers, downAfter, key, groupPlacement, memberPlacement,
        maxUploadBytes);
  }

  public TrackerConfig withPlacement(GroupPlacement group, MemberPlacement member) {
    return new TrackerConfig(bind, port, peers, downAfter, clusterKey, group, member,
        maxUploadBytes);
  }

  public TrackerConfig withMaxUploadBytes(long bytes) {
    return new TrackerConfig(bind, port, peers, downAfter, clusterKey, groupPlacement,
        memberPlacement, bytes);
  }
}
