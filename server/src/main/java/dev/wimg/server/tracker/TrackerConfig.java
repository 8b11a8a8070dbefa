package dev.wimg.server.tracker;

import java.net.URI;
import java.nio.file.Path;
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
 *                        it can send it to another node when the first fails); larger ones get a 307 to a node
 *                        and go to a storage node directly
 * @param dataDir         folder of the slot table's Raft log and snapshots
 * @param raftAddress     {@code host:port} where the other trackers reach this one's Raft server
 *                        (it listens on {@code bind} and that port), or null for the host of
 *                        {@link TrackerServer#url()} and {@code port + 1}
 * @param raftPeers       the other trackers' Raft addresses, {@code host:port}; when empty, each
 *                        of {@code peers} at its HTTP port + 1. Every tracker must be given the
 *                        same set of addresses, its own included (docs/CLUSTER.md)
 * @param writeKey        the key that creating and cancelling distribution tasks needs
 *                        ({@code Authorization: Bearer}), or null: then only loopback clients may
 */
public record TrackerConfig(String bind, int port, List<URI> peers, Duration downAfter,
                            String clusterKey, GroupPlacement groupPlacement,
                            MemberPlacement memberPlacement, long maxUploadBytes, Path dataDir,
                            String raftAddress, List<String> raftPeers, String writeKey) {

  /** Default port of a tracker. */
  public static final int DEFAULT_PORT = 9330;
  /** Default {@link #downAfter()}: five missed heartbeats. */
  public static final Duration DEFAULT_DOWN_AFTER = Duration.ofSeconds(5);
  /** Default {@link #maxUploadBytes()}: 16 MiB. */
  public static final long DEFAULT_MAX_UPLOAD_BYTES = 16L << 20;

  /** Default {@link #dataDir()}, relative to the working folder. */
  public static final Path DEFAULT_DATA_DIR = Path.of("wimg-tracker");

  public TrackerConfig {
    Objects.requireNonNull(bind, "bind");
    peers = List.copyOf(Objects.requireNonNull(peers, "peers"));
    Objects.requireNonNull(dataDir, "dataDir");
    raftPeers = List.copyOf(Objects.requireNonNull(raftPeers, "raftPeers"));
    if (raftAddress != null) {
      checkRaftAddress(raftAddress);
    }
    raftPeers.forEach(TrackerConfig::checkRaftAddress);
    Objects.requireNonNull(downAfter, "downAfter");
    Objects.requireNonNull(groupPlacement, "groupPlacement");
    Objects.requireNonNull(memberPlacement, "memberPlacement");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port must be 0..65535, got " + port);
    }
    if (downAfter.compareTo(Duration.ofMillis(100)) < 0) {
      throw new IllegalArgumentException("downAfter must be at least 100 ms, got " + downAfter);
    }
    if (writeKey != null && writeKey.isBlank()) {
      throw new IllegalArgumentException("writeKey must not be blank");
    }
    if (clusterKey != null && clusterKey.isBlank()) {
      throw new IllegalArgumentException("clusterKey must not be blank");
    }
    if (maxUploadBytes < 0 || maxUploadBytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("maxUploadBytes must be 0.." + Integer.MAX_VALUE
          + ", got " + maxUploadBytes);
    }
  }

  private static void checkRaftAddress(String address) {
    int colon = address.lastIndexOf(':');
    int port = -1;
    if (colon > 0) {
      try {
        port = Integer.parseInt(address.substring(colon + 1));
      } catch (NumberFormatException e) {
        port = -1;
      }
    }
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException("a Raft address must be host:port with a port 1..65535,"
          + " got \"" + address + "\"");
    }
  }

  /**
   * The defaults: loopback, {@value #DEFAULT_PORT}, no peers, no cluster key, the slot table in
   * {@link #DEFAULT_DATA_DIR}, Raft on the HTTP port + 1.
   */
  public static TrackerConfig defaults() {
    return new TrackerConfig("127.0.0.1", DEFAULT_PORT, List.of(), DEFAULT_DOWN_AFTER, null,
        GroupPlacement.FREE_SPACE, MemberPlacement.LEAST_LOAD, DEFAULT_MAX_UPLOAD_BYTES,
        DEFAULT_DATA_DIR, null, List.of(), null);
  }

  /**
   * The Raft addresses of the other trackers: {@link #raftPeers()}, or when none are given, each
   * of {@link #peers()} at its HTTP port + 1.
   */
  public List<String> effectiveRaftPeers() {
    if (!raftPeers.isEmpty()) {
      return raftPeers;
    }
    return peers.stream().map(u -> (u.getHost().contains(":") && !u.getHost().startsWith("[")
        ? "[" + u.getHost() + "]" : u.getHost()) + ":" + ((u.getPort() < 0 ? 80 : u.getPort()) + 1))
        .toList();
  }

  public TrackerConfig withDataDir(Path dir) {
    return new TrackerConfig(bind, port, peers, downAfter, clusterKey, groupPlacement,
        memberPlacement, maxUploadBytes, dir, raftAddress, raftPeers, writeKey);
  }

  public TrackerConfig withRaft(String address, List<String> others) {
    return new TrackerConfig(bind, port, peers, downAfter, clusterKey, groupPlacement,
        memberPlacement, maxUploadBytes, dataDir, address, others, writeKey);
  }

  public TrackerConfig withBind(String b) {
    return new TrackerConfig(b, port, peers, downAfter, clusterKey, groupPlacement,
        memberPlacement, maxUploadBytes, dataDir, raftAddress, raftPeers, writeKey);
  }

  public TrackerConfig withPort(int p) {
    return new TrackerConfig(bind, p, peers, downAfter, clusterKey, groupPlacement,
        memberPlacement, maxUploadBytes, dataDir, raftAddress, raftPeers, writeKey);
  }

  public TrackerConfig withPeers(List<URI> list) {
    return new TrackerConfig(bind, port, list, downAfter, clusterKey, groupPlacement,
        memberPlacement, maxUploadBytes, dataDir, raftAddress, raftPeers, writeKey);
  }

  public TrackerConfig withDownAfter(Duration d) {
    return new TrackerConfig(bind, port, peers, d, clusterKey, groupPlacement, memberPlacement,
        maxUploadBytes, dataDir, raftAddress, raftPeers, writeKey);
  }

  public TrackerConfig withClusterKey(String key) {
    return new TrackerConfig(bind, port, peers, downAfter, key, groupPlacement, memberPlacement,
        maxUploadBytes, dataDir, raftAddress, raftPeers, writeKey);
  }

  public TrackerConfig withPlacement(GroupPlacement group, MemberPlacement member) {
    return new TrackerConfig(bind, port, peers, downAfter, clusterKey, group, member,
        maxUploadBytes, dataDir, raftAddress, raftPeers, writeKey);
  }

  public TrackerConfig withMaxUploadBytes(long bytes) {
    return new TrackerConfig(bind, port, peers, downAfter, clusterKey, groupPlacement,
        memberPlacement, bytes, dataDir, raftAddress, raftPeers, writeKey);
  }

  public TrackerConfig withWriteKey(String key) {
    return new TrackerConfig(bind, port, peers, downAfter, clusterKey, groupPlacement, memberPlacement,
        maxUploadBytes, dataDir, raftAddress, raftPeers, key);
  }
}
