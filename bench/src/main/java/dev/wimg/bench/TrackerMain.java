package dev.wimg.bench;

import dev.wimg.server.tracker.TrackerConfig;
import dev.wimg.server.tracker.TrackerServer;
import java.util.concurrent.CountDownLatch;

/**
 * Starts a tracker for {@code tracker-scale.sh}:
 * {@code java -cp 'bench/target/classes:bench/target/lib/*' dev.wimg.bench.TrackerMain PORT
 * [RAFT_DATA]} (its Raft folder; {@code ./wimg-tracker} when not given).
 * Prints {@code TRACKER listening on PORT} once it listens and runs until SIGTERM.
 */
public final class TrackerMain {

  private TrackerMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1 && args.length != 2) {
      System.err.println("usage: TrackerMain PORT [RAFT_DATA]");
      System.exit(2);
    }
    TrackerConfig config = TrackerConfig.defaults().withPort(Integer.parseInt(args[0]));
    if (args.length == 2) {
      config = config.withDataDir(java.nio.file.Path.of(args[1]));
    }
    TrackerServer tracker = TrackerServer.start(config, "bench");
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      tracker.close();
      stopped.countDown();
    }));
    System.out.println("TRACKER listening on " + tracker.port());
    stopped.await();
  }
}
