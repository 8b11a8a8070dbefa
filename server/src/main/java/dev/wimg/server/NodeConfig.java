package dev.wimg.server;

import java.net.InetSocketAddress;

import dev.wimg.storage.StoreConfig;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A storage node's place in a cluster (its group is {@link dev.wimg.storage.StoreConfig#group()}).
 *
 * @param trackers          the trackers it heartbeats to; at least one
 * @param zone              its zone (a rack, a data centre)
 * @param publicUrl         where clients and peers reach it, or null for {@code http://<bind>:<port>}
 * @param clusterKey        the secret its heartbeats carry, or null (trackers then take
 *                          heartbeats from loopback only)
 * @param heartbeatInterval time between heartbeats
 * @param reserveBytes      free space below which the node is {@code read-only}: trackers place
 *                          no uploads on it, and uploads sent to it get 507
 * @param slotDeadline      how long a node's first start asks the trackers for its slot before
 *                          it fails
 * @param copies            members of its group, itself included, that must hold a write before
 *                          it is acknowledged (fewer when the group is smaller)
 * @param catchUpInterval   time between catch-up passes, which compare its copies with its peers'
 *                          and pull what they lack (docs/CLUSTER.md, "Catch-up")
 * @param lanGroup          the multicast group and port of LAN discovery (distribution tasks find
 *                          pieces on the LAN when no tracker answers; docs/DISTRIBUTION.md), or
 *                          null for none; used with a cluster key and a bind address of one
 *                          interface
 * @param distribution      what its distribution tasks' pieces may take, fetched and sent, and how
 *                          often its pinned copies are checked against their originals
 */
public record NodeConfig(List<URI> trackers, String zone, URI publicUrl, String clusterKey,
                         Duration heartbeatInterval, long reserveBytes, Duration slotDeadline,
                         int copies, Duration catchUpInterval, InetSocketAddress lanGroup, Distribution distribution) {

  /** Zone of a node that names none. */
  public static final String DEFAULT_ZONE = "default";
  /**
   * Default {@link #reserveBytes()}: 1 GiB, room for the writes in flight and for vacuum to copy a
   * volume's live needles.
   */
  public static final long DEFAULT_RESERVE_BYTES = 1L << 30;
  /** Default {@link #heartbeatInterval()}: 1 second. */
  public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(1);

  /** Default {@link #slotDeadline()}: trackers started with the node have time to elect. */
  public static final Duration DEFAULT_SLOT_DEADLINE = Duration.ofMinutes(2);

  /** Default {@link #copies()}: a write survives the loss of any one node. */
  public static final int DEFAULT_COPIES = 2;

  /** Default {@link #lanGroup()}. */
  public static final InetSocketAddress DEFAULT_LAN_GROUP = new InetSocketAddress("239.255.77.12", 9334);

  /** Default {@link #catchUpInterval()}. */
  public static final Duration DEFAULT_CATCH_UP_INTERVAL = Duration.ofSeconds(5);

  public NodeConfig {
    Objects.requireNonNull(slotDeadline, "slotDeadline");
    if (slotDeadline.isNegative()) {
      throw new IllegalArgumentException("slotDeadline must be >= 0, got " + slotDeadline);
    }
    trackers = List.copyOf(Objects.requireNonNull(trackers, "trackers"));
    if (trackers.isEmpty()) {
      throw new IllegalArgumentException("a storage node needs at least one tracker");
    }
    Objects.requireNonNull(zone, "zone");
    if (zone.isBlank() || zone.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
      throw new IllegalArgumentException("zone must be printable ASCII without spaces, got \""
          + zone + "\"");
    }
    Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
    if (heartbeatInterval.compareTo(Duration.ofMillis(50)) < 0) {
      throw new IllegalArgumentException("heartbeatInterval must be at least 50 ms, got "
          + heartbeatInterval);
    }
    if (clusterKey != null && clusterKey.isBlank()) {
      throw new IllegalArgumentException("clusterKey must not be blank");
    }
    if (reserveBytes < 0) {
      throw new IllegalArgumentException("reserveBytes must be >= 0, got " + reserveBytes);
    }
    if (copies < 1 || copies > StoreConfig.MAX_SLOT) {
      throw new IllegalArgumentException("copies must be in 1.." + StoreConfig.MAX_SLOT + ", got " + copies);
    }
    Objects.requireNonNull(distribution, "distribution");
    Objects.requireNonNull(catchUpInterval, "catchUpInterval");
    if (catchUpInterval.compareTo(Duration.ofMillis(100)) < 0) {
      throw new IllegalArgumentException("catchUpInterval must be at least 100 ms, got " + catchUpInterval);
    }
  }

  /** Heartbeats to {@code trackers} every second, zone {@value #DEFAULT_ZONE}, no cluster key. */
  public static NodeConfig of(List<URI> trackers) {
    return new NodeConfig(trackers, DEFAULT_ZONE, null, null, DEFAULT_HEARTBEAT_INTERVAL,
        DEFAULT_RESERVE_BYTES, DEFAULT_SLOT_DEADLINE, DEFAULT_COPIES, DEFAULT_CATCH_UP_INTERVAL,
        DEFAULT_LAN_GROUP, Distribution.DEFAULTS);
  }

  public NodeConfig withZone(String z) {
    return new NodeConfig(trackers, z, publicUrl, clusterKey, heartbeatInterval, reserveBytes,
        slotDeadline, copies, catchUpInterval, lanGroup, distribution);
  }

  public NodeConfig withPublicUrl(URI url) {
    return new NodeConfig(trackers, zone, url, clusterKey, heartbeatInterval, reserveBytes,
        slotDeadline, copies, catchUpInterval, lanGroup, distribution);
  }

  public NodeConfig withClusterKey(String key) {
    return new NodeConfig(trackers, zone, publicUrl, key, heartbeatInterval, reserveBytes,
        slotDeadline, copies, catchUpInterval, lanGroup, distribution);
  }

  public NodeConfig withHeartbeatInterval(Duration d) {
    return new NodeConfig(trackers, zone, publicUrl, clusterKey, d, reserveBytes, slotDeadline,
        copies, catchUpInterval, lanGroup, distribution);
  }

  public NodeConfig withReserveBytes(long bytes) {
    return new NodeConfig(trackers, zone, publicUrl, clusterKey, heartbeatInterval, bytes,
        slotDeadline, copies, catchUpInterval, lanGroup, distribution);
  }

  public NodeConfig withSlotDeadline(Duration d) {
    return new NodeConfig(trackers, zone, publicUrl, clusterKey, heartbeatInterval, reserveBytes,
        d, copies, catchUpInterval, lanGroup, distribution);
  }

  public NodeConfig withCopies(int n) {
    return new NodeConfig(trackers, zone, publicUrl, clusterKey, heartbeatInterval, reserveBytes,
        slotDeadline, n, catchUpInterval, lanGroup, distribution);
  }

  public NodeConfig withCatchUpInterval(Duration d) {
    return new NodeConfig(trackers, zone, publicUrl, clusterKey, heartbeatInterval, reserveBytes,
        slotDeadline, copies, d, lanGroup, distribution);
  }

  public NodeConfig withLanGroup(InetSocketAddress group) {
    return new NodeConfig(trackers, zone, publicUrl, clusterKey, heartbeatInterval, reserveBytes,
        slotDeadline, copies, catchUpInterval, group, distribution);
  }

  public NodeConfig withDistribution(Distribution settings) {
    return new NodeConfig(trackers, zone, publicUrl, clusterKey, heartbeatInterval, reserveBytes,
        slotDeadline, copies, catchUpInterval, lanGroup, settings);
  }

  /**
   * What a node's distribution tasks may take, and how their pinned copies are kept
   * (docs/DISTRIBUTION.md, "Caps" and "Read locations").
   *
   * @param fetchRate        bytes per second its piece fetches may take together, or 0 for no cap
   * @param uploads          pieces it sends at once; the next piece request gets {@code 503} at
   *                         once (its fetcher asks another holder), or 0 for no limit
   * @param sendRate         bytes per second the pieces it sends may take together, or 0 for no
   *                         cap
   * @param pinCheckInterval how often each whole pinned copy is checked against its original (a
   *                         {@code HEAD} at the file's group): a copy whose original is deleted is
   *                         dropped
   */
  public record Distribution(long fetchRate, int uploads, long sendRate, Duration pinCheckInterval) {

    /** Default {@link #uploads()}: twice what a tracker names a holder for, room for LAN peers. */
    public static final int DEFAULT_UPLOADS = 4;
    /** Default {@link #pinCheckInterval()}. */
    public static final Duration DEFAULT_PIN_CHECK_INTERVAL = Duration.ofSeconds(60);
    /** No rate caps, {@value #DEFAULT_UPLOADS} uploads at once, pins checked every minute. */
    public static final Distribution DEFAULTS = new Distribution(0, DEFAULT_UPLOADS, 0, DEFAULT_PIN_CHECK_INTERVAL);

    public Distribution {
      if (fetchRate < 0 || uploads < 0 || sendRate < 0) {
        throw new IllegalArgumentException("piece caps must be >= 0 (0: none), got fetch rate " + fetchRate
            + ", uploads " + uploads + ", send rate " + sendRate);
      }
      Objects.requireNonNull(pinCheckInterval, "pinCheckInterval");
      if (pinCheckInterval.compareTo(Duration.ofMillis(100)) < 0) {
        throw new IllegalArgumentException("pinCheckInterval must be at least 100 ms, got " + pinCheckInterval);
      }
    }

    /** These settings, pieces held to the given caps. */
    public Distribution withPieceCaps(long fetch, int sendAtOnce, long send) {
      return new Distribution(fetch, sendAtOnce, send, pinCheckInterval);
    }

    public Distribution withPinCheckInterval(Duration interval) {
      return new Distribution(fetchRate, uploads, sendRate, interval);
    }
  }
}
