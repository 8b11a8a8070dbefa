package dev.wimg.cli.internal;

import dev.wimg.server.NodeConfig;
import dev.wimg.server.ServerConfig;
import dev.wimg.server.StorageNode;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code wimg storage}: a storage node of a cluster in the foreground. It takes every option of
 * {@code wimg server} (data folder, fsync, limits, imaging) and joins group {@code --group} by
 * heartbeating to the trackers; uploads are taken once a tracker accepts it (docs/CLUSTER.md).
 */
@Command(name = "storage", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    sortOptions = false,
    description = {"Run a storage node of a WIMG cluster in the foreground: it serves what "
        + "'wimg server' serves and heartbeats to the trackers.",
        "Prints 'wimg storage node ID of group G listening on URL (data: DIR)' when ready."})
final class StorageCommand extends ServerCommand {

  @Option(names = "--group", paramLabel = "G",
      description = {"Storage group of this node, 1..65535 (the group in its fids); required.",
          "Environment: WIMG_GROUP."})
  private int group;

  @Option(names = "--tracker", paramLabel = "URL[,URL...]", converter = ServerUrlConverter.class,
      description = {"Trackers to heartbeat to, separated by ','; required.",
          "Environment: WIMG_TRACKER."})
  private ServerList trackers;

  @Option(names = "--zone", paramLabel = "ZONE", defaultValue = NodeConfig.DEFAULT_ZONE,
      description = {"Zone of this node (a rack, a data centre).",
          "Default: " + NodeConfig.DEFAULT_ZONE, "Environment: WIMG_ZONE."})
  private String zone;

  @Option(names = "--public-url", paramLabel = "URL", converter = ServerUrlConverter.class,
      description = {"Where clients and peers reach this node, if not http://BIND:PORT.",
          "Environment: WIMG_PUBLIC_URL."})
  private ServerList publicUrl;

  @Option(names = "--cluster-key", paramLabel = "KEY",
      description = "Secret the heartbeats carry; trackers without one take heartbeats from "
          + "loopback only (env WIMG_CLUSTER_KEY, which other users cannot see in ps).")
  private String clusterKey;

  @Option(names = "--lan", paramLabel = "GROUP:PORT|off", defaultValue = "239.255.77.12:9334",
      description = {"Multicast group and port on which distribution tasks find pieces on the LAN "
          + "when no tracker answers; needs --cluster-key (it signs the datagrams) and a --bind "
          + "address of one interface; off turns it off.", "Default: 239.255.77.12:9334"})
  private String lan;

  @Option(names = "--piece-rate", paramLabel = "SIZE", defaultValue = "0", converter = ByteSizeConverter.class,
      description = {"Bytes per second the node's distribution tasks may fetch, all pieces together "
          + "(e.g. 20m); 0: no cap.", "Default: 0"})
  private long pieceRate;

  @Option(names = "--piece-send-rate", paramLabel = "SIZE", defaultValue = "0", converter = ByteSizeConverter.class,
      description = {"Bytes per second the node may send for other nodes' distribution pieces, all "
          + "together (e.g. 20m); reads by clients and replication are not counted; 0: no cap.", "Default: 0"})
  private long pieceSendRate;

  @Option(names = "--piece-uploads", paramLabel = "N", defaultValue = "4",
      description = {"Distribution pieces the node sends at once; the next request for one gets 503 "
          + "at once and its fetcher asks another holder; 0: no limit.", "Default: 4"})
  private int pieceUploads;

  @Option(names = "--reserve", paramLabel = "SIZE", defaultValue = "1g",
      converter = ByteSizeConverter.class,
      description = {"Free space below which the node is read-only: no uploads are placed on it "
          + "and uploads sent to it get 507.", "Default: 1g", "Environment: WIMG_RESERVE."})
  private long reserve;

  @Option(names = "--copies", paramLabel = "N", defaultValue = "2",
      description = {"Members of the group, this one included, that must hold an upload or delete "
          + "durable before it is acknowledged (the group's size if smaller); too few live "
          + "members: 503, and trackers place uploads on other groups.", "Default: 2",
          "Environment: WIMG_COPIES."})
  private int copies;

  @Option(names = "--catch-up-every", paramLabel = "MILLIS", defaultValue = "5000",
      description = {"Time between catch-up passes, which compare this node's copies with its "
          + "peers' and pull what it lacks (a read of a file it lacks pulls at once).",
          "Default: 5000", "Environment: WIMG_CATCH_UP_EVERY."})
  private long catchUpMillis;

  StorageCommand(Environment environment) {
    super(environment);
  }

  @Override
  Running start(ServerConfig config) throws IOException {
    if (group < 1 || group > 65_535) {
      throw new IllegalArgumentException(group == 0 ? "--group is required (1..65535)"
          : "--group must be 1..65535, got " + group);
    }
    if (trackers == null) {
      throw new IllegalArgumentException("--tracker is required: the URL of at least one tracker");
    }
    if (publicUrl != null && publicUrl.urls().size() != 1) {
      throw new IllegalArgumentException("--public-url must be one URL, got " + publicUrl);
    }
    if (pieceUploads < 0) {
      throw new IllegalArgumentException("--piece-uploads must be >= 0 (0: no limit), got " + pieceUploads);
    }
    if (catchUpMillis < 100) {
      throw new IllegalArgumentException("--catch-up-every must be at least 100 (ms), got " + catchUpMillis);
    }
    NodeConfig node = NodeConfig.of(trackers.urls()).withZone(zone)
        .withCatchUpInterval(java.time.Duration.ofMillis(catchUpMillis))
        .withPublicUrl(publicUrl == null ? null : publicUrl.urls().getFirst())
        .withReserveBytes(reserve)
        .withCopies(copies)
        .withClusterKey(clusterKey == null || clusterKey.isEmpty() ? null : clusterKey)
        .withLanGroup(lanGroup(lan))
        .withDistribution(NodeConfig.Distribution.DEFAULTS.withPieceCaps(pieceRate, pieceUploads, pieceSendRate));
    StorageNode storage = StorageNode.start(config.withGroup(group),
        node);
    return new Running() {
      @Override
      public int port() {
        return storage.port();
      }

      @Override
      public void awaitTermination() throws InterruptedException {
        storage.awaitTermination();
      }

      @Override
      public void close() {
        storage.close();
      }

      @Override
      public String readyLine(String url, Path dataDir) {
        return "wimg storage node " + storage.nodeId() + " of group " + group + " listening on "
            + storage.url() + " (data: " + dataDir + ")";
      }
    };
  }

  /** {@code --lan}: a multicast IPv4 group and port, or off (null). */
  static java.net.InetSocketAddress lanGroup(String value) {
    if (value.equals("off")) {
      return null;
    }
    int colon = value.lastIndexOf(':');
    try {
      java.net.InetAddress group = java.net.InetAddress.getByName(value.substring(0, Math.max(colon, 0)));
      int port = Integer.parseInt(value.substring(colon + 1));
      if (colon < 1 || !group.isMulticastAddress() || !(group instanceof java.net.Inet4Address) || port < 1
          || port > 65_535) {
        throw new IllegalArgumentException();
      }
      return new java.net.InetSocketAddress(group, port);
    } catch (IllegalArgumentException | java.net.UnknownHostException e) {
      throw new IllegalArgumentException("--lan must be an IPv4 multicast GROUP:PORT (224.0.0.0/4, port 1..65535)"
          + " or off, got \"" + value + "\"");
    }
  }
}
