package dev.wimg.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.wimg.client.UploadResult;
import dev.wimg.client.WimgClient;
import java.io.IOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acknowledged means durable: a real {@code wimg server} child JVM with {@code --fsync always}
 * takes uploads from four threads and is killed with SIGKILL mid-stream; after a restart on the
 * same data folder every upload it acknowledged reads back byte-identical, and after a clean stop
 * {@code wimg verify} finds nothing wrong. Three kill cycles on the same folder, so recovery also
 * runs over volumes that were recovered before.
 */
class CrashRecoveryTest {

  private static final int CYCLES = 3;
  private static final int UPLOAD_THREADS = 4;
  /** Uploads run at least this long before the kill, milliseconds; a random 0..1000 ms is added. */
  private static final long MIN_UPLOAD_MILLIS = 3_000;
  /** And at least this many uploads are acknowledged before the kill, so every cycle adds data. */
  private static final int MIN_ACKS_PER_CYCLE = 20;
  /** Small payloads are 0..this many bytes. */
  private static final int SMALL_MAX_BYTES = 200 * 1024;
  /** One payload in this many is large: 1..4 MiB, spanning many pages and the expect-continue path. */
  private static final int LARGE_ONE_IN = 100;
  /** Volume cap of the child, small so that uploads roll over to new volumes during the test. */
  private static final String VOLUME_SIZE = "16m";
  /** Exit status of a JVM killed by SIGKILL: 128 + 9. */
  private static final int KILLED_BY_SIGKILL = 137;
  /** Exit status of a JVM stopped by SIGTERM after its shutdown hooks ran: 128 + 15. */
  private static final int STOPPED_BY_SIGTERM = 143;

  private record Acked(int size, String sha256) {}

  @TempDir Path tmp;

  @Test
  @Timeout(180)
  void uploadsAcknowledgedBeforeKill9AllReadBackAfterRestart() throws Exception {
    Path data = tmp.resolve("data");
    long seed = System.nanoTime();
    SplittableRandom timing = new SplittableRandom(seed);
    Map<String, Acked> acked = new ConcurrentHashMap<>();

    for (int cycle = 1; cycle <= CYCLES; cycle++) {
      String context = "cycle " + cycle + ", seed " + seed;
      int before = acked.size();
      try (ChildServer child = startChild(data, "cycle-" + cycle + "-killed.log")) {
        long uploadMillis = MIN_UPLOAD_MILLIS + timing.nextLong(1_000);
        uploadUntilKilled(child, acked, seed + cycle, uploadMillis, context);
        assertThat(child.isAlive()).as(context).isFalse();
      }
      assertThat(acked.size() - before).as(context).isGreaterThanOrEqualTo(MIN_ACKS_PER_CYCLE);

      try (ChildServer restarted = startChild(data, "cycle-" + cycle + "-restarted.log")) {
        List<String> wrong = readBack(restarted, acked);
        assertThat(wrong).as(context + ": acknowledged uploads missing or different after kill -9 "
            + "and restart (of " + acked.size() + ")\n" + restarted.logTail()).isEmpty();
        assertThat(restarted.stop()).as(context + ": clean stop\n" + restarted.logTail())
            .isEqualTo(STOPPED_BY_SIGTERM);
        // Evidence in the test's output of what recovery did (not asserted: the engine's business).
        System.out.println(context + ": " + (acked.size() - before) + " uploads acknowledged before "
            + "kill -9, " + acked.size() + " in all read back\n" + restarted.logTail());
      }

      CliRun verify = CliRun.run(Map.of(), tmp, "verify", data.toString());
      assertThat(verify.exitCode()).as(context + ": " + verify).isZero();
      assertThat(verify.out()).as(context).endsWith(": no problems\n");
    }
  }

  private ChildServer startChild(Path data, String logName) throws IOException, InterruptedException {
    return ChildServer.start(tmp, tmp.resolve(logName),
        "--data", data.toString(), "--fsync", "always", "--volume-size", VOLUME_SIZE);
  }

  /**
   * Uploads from {@link #UPLOAD_THREADS} threads until the child is killed, recording every upload
   * the server acknowledged. Any failure before the kill fails the test.
   */
  private static void uploadUntilKilled(ChildServer child, Map<String, Acked> acked, long seed,
                                        long uploadMillis, String context) throws Exception {
    AtomicBoolean killing = new AtomicBoolean();
    AtomicInteger acks = new AtomicInteger();
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    int exit;
    try (WimgClient client = WimgClient.builder(child.url()).requestTimeout(Duration.ofSeconds(60)).build();
         ExecutorService threads = Executors.newFixedThreadPool(UPLOAD_THREADS)) {
      for (int t = 0; t < UPLOAD_THREADS; t++) {
        SplittableRandom random = new SplittableRandom(seed * 31 + t);
        threads.submit(() -> {
          while (!killing.get()) {
            byte[] payload = payload(random);
            try {
              UploadResult r = client.upload(payload, "p.bin", "application/octet-stream");
              acked.put(r.fid(), new Acked(payload.length, sha256(payload)));
              acks.incrementAndGet();
            } catch (IOException e) {
              if (!killing.get()) {
                failures.add(e);
              }
              return;
            }
          }
        });
      }
      long killAt = System.nanoTime() + uploadMillis * 1_000_000;
      await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(20))
          .until(() -> !failures.isEmpty()
              || (System.nanoTime() - killAt >= 0 && acks.get() >= MIN_ACKS_PER_CYCLE));
      killing.set(true);
      exit = child.kill9();
    }
    assertThat(failures).as(context + ": uploads failed before the kill\n" + child.logTail()).isEmpty();
    assertThat(exit).as(context + ": exit status of the killed child").isEqualTo(KILLED_BY_SIGKILL);
  }

  /** Downloads every acknowledged fid; returns a line for each that is missing or different. */
  private static List<String> readBack(ChildServer server, Map<String, Acked> acked) {
    List<String> wrong = new ArrayList<>();
    try (WimgClient client = WimgClient.create(server.url())) {
      for (Map.Entry<String, Acked> e : acked.entrySet()) {
        Acked expected = e.getValue();
        try {
          byte[] got = client.download(e.getKey());
          if (got.length != expected.size() || !sha256(got).equals(expected.sha256())) {
            wrong.add(e.getKey() + ": " + got.length + " bytes, sha256 " + sha256(got) + "; expected "
                + expected.size() + " bytes, sha256 " + expected.sha256());
          }
        } catch (IOException ex) {
          wrong.add(e.getKey() + " (" + expected.size() + " bytes): " + ex.getMessage());
        }
      }
    }
    return wrong;
  }

  private static byte[] payload(SplittableRandom random) {
    int size = random.nextInt(LARGE_ONE_IN) == 0
        ? random.nextInt(1 << 20, 4 << 20)
        : random.nextInt(SMALL_MAX_BYTES + 1);
    byte[] b = new byte[size];
    random.nextBytes(b);
    return b;
  }

  private static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
