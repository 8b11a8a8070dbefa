package dev.wimg.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.client.UploadResult;
import dev.wimg.client.WimgClient;
import dev.wimg.storage.StoreConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full disk, made real and deterministic without privileges: a {@code wimg server} child JVM runs
 * under a file-size limit ({@code RLIMIT_FSIZE}), so growing its volume file past the limit fails
 * with EFBIG exactly as it fails with ENOSPC on a full device. Uploads, one at a time, until several
 * are refused; every refusal is a clean 507 JSON answer, the server stays up and serves every
 * acknowledged file; a delete that cannot append its tombstone is a 507 too and leaves the file
 * readable; after a restart without the limit every acknowledged file reads back
 * byte-identical, {@code wimg verify} finds nothing wrong and the volume grows again.
 *
 * <p>Why the limit is where it is: the store grows a volume file in steps of its preallocation
 * ({@link StoreConfig#DEFAULT_PREALLOCATE_BYTES}, 64 MiB, not a server flag), so the first step
 * fits under {@link #FILE_SIZE_LIMIT} and the second cannot; the store then grows the file by what
 * each batch needs until that fails too. The uploads of the first step at least must be
 * acknowledged. Sequential uploads with a fixed seed make every run take the same path.
 */
class StorageFullTest {

  /** RLIMIT_FSIZE of the limited child, bytes: one preallocation step and 16 MiB. */
  private static final long FILE_SIZE_LIMIT = StoreConfig.DEFAULT_PREALLOCATE_BYTES + (16L << 20);
  /** Uploads are MIN_BYTES..MAX_BYTES (exclusive) each. */
  private static final int MIN_BYTES = 256 << 10;
  private static final int MAX_BYTES = 1 << 20;
  /** Acknowledged uploads needed before the first refusal: a 64 MiB step holds 64 or more. */
  private static final int MIN_ACKED = 32;
  /** Refused uploads to see before the limited server is examined. */
  private static final int REFUSALS = 5;
  /** Give up if this many uploads did not produce {@link #REFUSALS}: 200 is ~125 MiB. */
  private static final int MAX_ATTEMPTS = 200;
  /** Exit status of a JVM stopped by SIGTERM after its shutdown hooks ran: 128 + 15. */
  private static final int STOPPED_BY_SIGTERM = 143;
  private static final long SEED = 20261125;
  private static final String REFUSAL_JSON =
      "{\"error\":\"could not store the file: a volume file reached the largest size the server may write\","
          + "\"status\":507}";

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  @Test
  @Timeout(120)
  void uploadsPastAFullVolumeFileAreRefusedWith507AndEveryAcknowledgedFileSurvives() throws Exception {
    Path data = tmp.resolve("data");
    SplittableRandom random = new SplittableRandom(SEED);
    Map<String, byte[]> acked = new LinkedHashMap<>();
    int ackedBeforeFirstRefusal = -1;
    int refusals = 0;
    int attempts = 0;

    try (ChildServer limited = ChildServer.startWithFileSizeLimit(FILE_SIZE_LIMIT, tmp,
        tmp.resolve("limited.log"), "--data", data.toString(), "--fsync", "always", "--volume-size", "1g")) {
      assertThat(fileSizeLimitOf(limited.pid())).as("RLIMIT_FSIZE of the child").isEqualTo(FILE_SIZE_LIMIT);
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
      while (refusals < REFUSALS && attempts < MAX_ATTEMPTS) {
        attempts++;
        byte[] payload = new byte[random.nextInt(MIN_BYTES, MAX_BYTES)];
        random.nextBytes(payload);
        HttpResponse<String> answer = http.send(HttpRequest.newBuilder(limited.url().resolve("/files"))
                .timeout(Duration.ofSeconds(30)) // a hang fails the test with HttpTimeoutException
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(payload)).build(),
            HttpResponse.BodyHandlers.ofString());
        String context = "upload " + attempts + " (" + payload.length + " bytes) answered " + answer.statusCode()
            + " " + answer.body() + "\n" + limited.logTail();
        if (answer.statusCode() == 201) {
          acked.put(JSON.readTree(answer.body()).get("fid").asText(), payload);
          continue;
        }
        assertThat(answer.statusCode()).as(context).isEqualTo(507);
        assertThat(answer.headers().firstValue("Content-Type")).as(context).contains("application/json");
        assertThat(JSON.readTree(answer.body())).as(context).isEqualTo(JSON.readTree(REFUSAL_JSON));
        if (refusals++ == 0) {
          ackedBeforeFirstRefusal = acked.size();
        }
      }
      assertThat(refusals).as("uploads refused in " + attempts + " attempts\n" + limited.logTail())
          .isEqualTo(REFUSALS);
      assertThat(ackedBeforeFirstRefusal).as("uploads acknowledged before the first refusal")
          .isGreaterThanOrEqualTo(MIN_ACKED);
      // More than one step was stored: past the failed step, the file grew by what each batch needed.
      assertThat(acked.values().stream().mapToLong(bytes -> bytes.length).sum())
          .as("bytes acknowledged under the limit").isGreaterThan(StoreConfig.DEFAULT_PREALLOCATE_BYTES);

      assertThat(limited.isAlive()).as("server alive after the refusals\n" + limited.logTail()).isTrue();
      assertThat(wrongOrMissing(limited.url(), acked)).as("acknowledged files served while the limit holds")
          .isEmpty();
      assertThat(limited.stop()).as("clean stop of the limited server\n" + limited.logTail())
          .isEqualTo(STOPPED_BY_SIGTERM);
      System.out.println(acked.size() + " uploads acknowledged (" + ackedBeforeFirstRefusal
          + " before the first refusal), " + refusals + " refused with 507, in " + attempts + " attempts\n"
          + limited.logTail());
    }

    // A delete appends a tombstone: under a limit far below the volume file's size it cannot.
    try (ChildServer tight = ChildServer.startWithFileSizeLimit(1 << 20, tmp, tmp.resolve("tight.log"),
        "--data", data.toString(), "--fsync", "always", "--volume-size", "1g")) {
      String fid = acked.keySet().iterator().next();
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
      HttpResponse<String> refused = http.send(HttpRequest.newBuilder(tight.url().resolve("/" + fid))
          .DELETE().timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(refused.statusCode()).as("DELETE under the limit\n" + tight.logTail()).isEqualTo(507);
      assertThat(JSON.readTree(refused.body())).isEqualTo(JSON.readTree(
          "{\"error\":\"could not delete the file: a volume file reached the largest size the server may write\","
              + "\"status\":507}"));
      assertThat(wrongOrMissing(tight.url(), Map.of(fid, acked.get(fid)))).as("the file a delete could not remove")
          .isEmpty();
      assertThat(tight.stop()).as("clean stop\n" + tight.logTail()).isEqualTo(STOPPED_BY_SIGTERM);
    }

    try (ChildServer restarted = ChildServer.start(tmp, tmp.resolve("restarted.log"),
        "--data", data.toString(), "--fsync", "always", "--volume-size", "1g")) {
      assertThat(wrongOrMissing(restarted.url(), acked)).as("acknowledged files after a restart without the limit\n"
          + restarted.logTail()).isEmpty();
      Map<String, byte[]> afterRestart = new LinkedHashMap<>();
      try (WimgClient client = WimgClient.create(restarted.url())) {
        for (int i = 0; i < 3; i++) {
          // A full-size upload: larger than every refused one, so the first needs the volume to grow.
          byte[] payload = new byte[MAX_BYTES];
          random.nextBytes(payload);
          UploadResult r = client.upload(payload, "after-" + i + ".bin", "application/octet-stream");
          afterRestart.put(r.fid(), payload);
        }
      }
      assertThat(wrongOrMissing(restarted.url(), afterRestart)).as("uploads after the restart").isEmpty();
      assertThat(largestVolumeFile(data)).as("a volume file grew past the old limit")
          .isGreaterThan(FILE_SIZE_LIMIT);
      assertThat(restarted.stop()).as("clean stop\n" + restarted.logTail()).isEqualTo(STOPPED_BY_SIGTERM);
    }

    CliRun verify = CliRun.run(Map.of(), tmp, "verify", data.toString());
    assertThat(verify.exitCode()).as(verify.toString()).isZero();
    assertThat(verify.out()).as(verify.toString()).endsWith(": no problems\n");
  }

  /** The soft {@code Max file size} of a process, bytes, from {@code /proc/PID/limits}. */
  private static long fileSizeLimitOf(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "limits"))) {
      if (line.startsWith("Max file size")) {
        String soft = line.substring("Max file size".length()).strip().split("\\s+")[0];
        return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
      }
    }
    throw new AssertionError("no Max file size in /proc/" + pid + "/limits");
  }

  /** Downloads every file of {@code expected}; a line for each that is missing or different. */
  private static List<String> wrongOrMissing(URI server, Map<String, byte[]> expected) {
    List<String> wrong = new ArrayList<>();
    try (WimgClient client = WimgClient.create(server)) {
      for (Map.Entry<String, byte[]> e : expected.entrySet()) {
        try {
          byte[] got = client.download(e.getKey());
          if (!Arrays.equals(got, e.getValue())) {
            wrong.add(e.getKey() + ": " + got.length + " bytes differ from the " + e.getValue().length + " uploaded");
          }
        } catch (IOException ex) {
          wrong.add(e.getKey() + " (" + e.getValue().length + " bytes): " + ex.getMessage());
        }
      }
    }
    return wrong;
  }

  private static long largestVolumeFile(Path data) throws IOException {
    try (Stream<Path> files = Files.list(data)) {
      long largest = 0;
      for (Path p : files.filter(p -> p.getFileName().toString().endsWith(".dat")).toList()) {
        largest = Math.max(largest, Files.size(p));
      }
      return largest;
    }
  }
}
