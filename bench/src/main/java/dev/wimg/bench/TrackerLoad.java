package dev.wimg.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Simulated storage nodes for {@code tracker-scale.sh}: {@code NODES} nodes (each its own group,
 * one volume, so that the tracker accepts all of them) each send a heartbeat once a second, spread
 * evenly over the second, for {@code SECONDS} seconds; then it prints how many were sent, answered
 * 200, failed, and the answer times (p50, p99, max), for the whole run and for each 10 s window
 * (so that a window with other load on the tracker, such as {@code tracker-scale.sh}'s wrk, shows
 * apart).
 *
 * <pre>
 * java -cp 'bench/target/classes:bench/target/lib/*' dev.wimg.bench.TrackerLoad URL NODES SECONDS
 * </pre>
 */
public final class TrackerLoad {

  private TrackerLoad() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: TrackerLoad TRACKER_URL NODES SECONDS");
      System.exit(2);
    }
    URI beat = URI.create(args[0]).resolve("/cluster/heartbeat");
    int nodes = Integer.parseInt(args[1]);
    int seconds = Integer.parseInt(args[2]);
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5)).build();
    byte[][] bodies = new byte[nodes][];
    for (int i = 0; i < nodes; i++) {
      bodies[i] = ("{\"version\":1,\"group\":" + (i + 1) + ",\"node\":\"sim-" + i + "\",\"url\":\"http://10.0."
          + (i / 250) + "." + (i % 250 + 1) + ":9401\",\"zone\":\"z" + (i % 4) + "\",\"state\":"
          + "\"serving\",\"freeBytes\":" + (1_000_000_000_000L - i) + ",\"usedBytes\":1000000,"
          + "\"needles\":" + (1000 + i) + ",\"load\":" + (i % 7) + ",\"volumes\":[1]}")
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
    AtomicLong ok = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    ConcurrentLinkedQueue<long[]> micros = new ConcurrentLinkedQueue<>();
    long start = System.nanoTime();
    long periodNanos = TimeUnit.SECONDS.toNanos(1) / nodes;
    long sent = 0;
    CompletableFuture<?> last = CompletableFuture.completedFuture(null);
    for (long n = 0; n < (long) nodes * seconds; n++) {
      long due = start + n * periodNanos;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      }
      long t0 = System.nanoTime();
      HttpRequest request = HttpRequest.newBuilder(beat).timeout(Duration.ofSeconds(5))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofByteArray(bodies[(int) (n % nodes)])).build();
      last = http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
          .whenComplete((r, e) -> {
            if (e == null && r.statusCode() == 200) {
              ok.incrementAndGet();
              micros.add(new long[] {(t0 - start) / 10_000_000_000L,
                  (System.nanoTime() - t0) / 1000});
            } else {
              failed.incrementAndGet();
            }
          });
      sent++;
    }
    last.handle((r, e) -> null).get(10, TimeUnit.SECONDS);
    TimeUnit.SECONDS.sleep(1);
    long[] sorted = micros.stream().mapToLong(m -> m[1]).sorted().toArray();
    System.out.printf("heartbeats: %d nodes x %d s: sent %d, 200 %d, failed %d; answer p50 %.2f ms,"
            + " p99 %.2f ms, max %.2f ms%n", nodes, seconds, sent, ok.get(), failed.get(),
        percentile(sorted, 0.50) / 1000.0, percentile(sorted, 0.99) / 1000.0,
        sorted.length == 0 ? 0 : sorted[sorted.length - 1] / 1000.0);
    for (long window = 0; window * 10 < seconds; window++) {
      long w = window;
      long[] in = micros.stream().filter(m -> m[0] == w).mapToLong(m -> m[1]).sorted().toArray();
      System.out.printf("  %3d-%3d s: %d answered, p50 %.2f ms, p99 %.2f ms%n", w * 10, w * 10 + 10,
          in.length, percentile(in, 0.50) / 1000.0, percentile(in, 0.99) / 1000.0);
    }
    http.close();
    System.exit(failed.get() == 0 ? 0 : 1);
  }

  private static long percentile(long[] sorted, double p) {
    return sorted.length == 0 ? 0 : sorted[(int) Math.min(sorted.length - 1, p * sorted.length)];
  }
}
