package dev.wimg.cli.internal;

import dev.wimg.cli.ExitCode;
import dev.wimg.server.tracker.GroupPlacement;
import dev.wimg.server.tracker.MemberPlacement;
import dev.wimg.server.tracker.TrackerConfig;
import dev.wimg.server.tracker.TrackerServer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code wimg tracker}: a tracker in the foreground. Prints one line,
 * {@code wimg tracker listening on URL}, once it listens; stops on SIGTERM or SIGINT.
 */
@Command(name = "tracker", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    sortOptions = false,
    description = {"Run a WIMG tracker in the foreground: it knows the storage nodes from their "
        + "heartbeats, places uploads (POST /files) and redirects reads to a node of the fid's "
        + "group. Several run side by side as equal peers.",
        "Prints 'wimg tracker listening on URL' when ready."})
final class TrackerCommand implements Callable<Integer> {

  private static final Logger log = LoggerFactory.getLogger(TrackerCommand.class);

  private final Environment environment;

  @Option(names = "--port", paramLabel = "PORT", defaultValue = "" + TrackerConfig.DEFAULT_PORT,
      description = {"TCP port; 0 picks a free one.", "Default: " + TrackerConfig.DEFAULT_PORT,
          "Environment: WIMG_PORT."})
  private int port;

  @Option(names = "--bind", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
      description = {"Address to listen on.", "Default: 127.0.0.1", "Environment: WIMG_BIND."})
  private String bind;

  @Option(names = "--peer", paramLabel = "URL[,URL...]", converter = ServerUrlConverter.class,
      description = "Other trackers, listed in /cluster for clients; ','-separated or repeated.")
  private List<ServerList> peers = List.of();

  @Option(names = "--raft-data", paramLabel = "DIR", defaultValue = "wimg-tracker",
      description = {"Folder of the slot table's Raft log and snapshots, created if missing "
          + "(its own option, so that a server's --data or WIMG_DATA never points a tracker at "
          + "a volume folder).", "Default: wimg-tracker", "Environment: WIMG_RAFT_DATA."})
  private Path data;

  @Option(names = "--raft", paramLabel = "HOST:PORT",
      description = {"Where the other trackers reach this one's Raft server (the slot table); it "
          + "listens on --bind and PORT. Keep it across restarts: it names this tracker in the "
          + "Raft group.", "Default: this tracker's host and --port + 1."})
  private String raft;

  @Option(names = "--raft-peer", paramLabel = "HOST:PORT", split = ",",
      description = {"Another tracker's Raft address; repeat or separate with ','. Every tracker "
          + "must be given the same set, its own included.",
          "Default: each --peer at its port + 1."})
  private List<String> raftPeers = List.of();

  @Option(names = "--down-after", paramLabel = "MILLIS", defaultValue = "5000",
      description = {"A storage node that sends no heartbeat for this long is down.",
          "Default: 5000", "Environment: WIMG_DOWN_AFTER."})
  private long downAfterMillis;

  @Option(names = "--group-placement", paramLabel = "POLICY", defaultValue = "free-space",
      description = {"Group of an upload: free-space, round-robin or least-load.",
          "Default: free-space", "Environment: WIMG_GROUP_PLACEMENT."})
  private String groupPlacement;

  @Option(names = "--member-placement", paramLabel = "POLICY", defaultValue = "least-load",
      description = {"Member of that group: least-load, or nearest (the client's X-Wimg-Zone).",
          "Default: least-load", "Environment: WIMG_MEMBER_PLACEMENT."})
  private String memberPlacement;

  @Option(names = "--max-upload", paramLabel = "SIZE", defaultValue = "16m",
      converter = ByteSizeConverter.class,
      description = {"Largest upload passed on to a storage node (held in memory so that it can "
          + "be sent to another node if the first fails); larger ones get a 307 to a node.", "Default: 16m",
          "Environment: WIMG_MAX_UPLOAD."})
  private long maxUpload;

  @Option(names = "--cluster-key", paramLabel = "KEY",
      description = "Secret storage nodes' heartbeats must carry; without one, heartbeats are "
          + "taken from loopback only (env WIMG_CLUSTER_KEY).")
  private String clusterKey;

  @Option(names = "--write-key", paramLabel = "KEY",
      description = "Secret that creating and cancelling distribution tasks (POST, DELETE /tasks) "
          + "needs as Authorization: Bearer KEY; without one, only loopback clients may "
          + "(env WIMG_WRITE_KEY).")
  private String writeKey;

  TrackerCommand(Environment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() throws InterruptedException {
    TrackerConfig config;
    try {
      config = TrackerConfig.defaults().withBind(bind).withPort(port)
          .withPeers(peers.stream().flatMap(p -> p.urls().stream()).toList())
          .withDownAfter(Duration.ofMillis(downAfterMillis))
          .withClusterKey(clusterKey == null || clusterKey.isEmpty() ? null : clusterKey)
          .withWriteKey(writeKey == null || writeKey.isEmpty() ? null : writeKey)
          .withPlacement(policy(GroupPlacement.class, groupPlacement, "--group-placement"),
              policy(MemberPlacement.class, memberPlacement, "--member-placement"))
          .withMaxUploadBytes(maxUpload)
          .withDataDir(data)
          .withRaft(raft, raftPeers);
    } catch (IllegalArgumentException e) {
      throw new CliFailure(ExitCode.USAGE, e.getMessage());
    }
    TrackerServer tracker;
    try {
      tracker = TrackerServer.start(config, VersionProvider.version());
    } catch (IOException | RuntimeException e) {
      throw CliFailure.of("cannot start a tracker on " + bind + ":" + port, e);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      log.info("stopping");
      tracker.close();
      stopped.countDown();
    }, "wimg-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    environment.out().println("wimg tracker listening on " + tracker.url());
    environment.out().flush();
    stopped.await();
    return ExitCode.OK.code();
  }

  private static <E extends Enum<E>> E policy(Class<E> type, String token, String option) {
    for (E value : type.getEnumConstants()) {
      if (value.name().replace('_', '-').equalsIgnoreCase(token)) {
        return value;
      }
    }
    StringBuilder names = new StringBuilder();
    for (E value : type.getEnumConstants()) {
      names.append(names.isEmpty() ? "" : ", ").append(value.name().replace('_', '-')
          .toLowerCase(java.util.Locale.ROOT));
    }
    throw new IllegalArgumentException(option + " must be one of " + names + ", got \"" + token
        + "\"");
  }
}
