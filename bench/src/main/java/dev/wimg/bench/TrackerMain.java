package dev.wimg.bench;

import dev.wimg.server.tracker.TrackerConfig;
import dev.wimg.server.tracker.TrackerServer;
import java.util.concurrent.CountDownLatch;

/**
 * Starts a tracker for {@code tracker-scale.sh}:
 * {@code java -cp 'bench/target/classes:bench/target/lib/*' dev.wimg.bench.TrackerMain PORT}.
 * Prints {@code TRACKER listening on PORT} once it listens and runs until SIGTERM.
 */
public final class TrackerMain {

  private TrackerMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: TrackerMain PORT");
      System.exit(2);
    }
    TrackerServer tracker = TrackerServer.start(
        TrackerConfig.defaults().withPort(Integer.parseInt(args[0])), "bench");
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      tracker.close();
      stopped.countDown();
    }));
    System.out.println("TRACKER listening on " + tracker.port());
    stopped.await();
  }
}
