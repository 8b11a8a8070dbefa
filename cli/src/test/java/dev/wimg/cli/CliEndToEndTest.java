package dev.wimg.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.server.ServerConfig;
import dev.wimg.server.WimgServer;
import dev.wimg.storage.FsyncPolicy;
import dev.wimg.storage.StoreConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every client command run in-process against a real {@link WimgServer} on an ephemeral port. */
class CliEndToEndTest {

  private static final Pattern LINE = Pattern.compile("(\\S+) (\\S+)");

  @TempDir static Path sharedData;
  private static WimgServer server;
  private static String url;

  @TempDir Path tmp;

  @BeforeAll
  static void startServer() throws IOException {
    server = WimgServer.start(ServerConfig.defaults(testStore(sharedData)).withPort(0));
    url = "http://127.0.0.1:" + server.port();
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void uploadPrintsFidAndFullUrlPerFileAndEveryFileReadsBack() throws IOException {
    Path empty = Files.write(tmp.resolve("empty.txt"), new byte[0]);
    Path photo = Files.write(tmp.resolve("cat picture.jpg"), random(20_000, 1));
    Path blob = Files.write(tmp.resolve("blob.bin"), random(300_000, 2));

    CliRun r = cli("upload", "--server", url, empty.toString(), photo.toString(), blob.toString());

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stderr()).isEmpty();
    List<String> lines = r.out().lines().toList();
    assertThat(lines).hasSize(3);
    List<Path> files = List.of(empty, photo, blob);
    for (int i = 0; i < 3; i++) {
      Matcher m = LINE.matcher(lines.get(i));
      assertThat(m.matches()).as(lines.get(i)).isTrue();
      assertThat(m.group(2)).isEqualTo(url + "/" + m.group(1));
      CliRun back = cli("download", "--server", url, m.group(1));
      assertThat(back.exitCode()).as(back.toString()).isZero();
      assertThat(back.stdout()).isEqualTo(Files.readAllBytes(files.get(i)));
    }
  }

  @Test
  void uploadJsonPrintsAnObjectForOneFileAndAnArrayForSeveral() throws IOException {
    Path a = Files.writeString(tmp.resolve("a.txt"), "alpha");
    Path b = Files.writeString(tmp.resolve("b.png"), "not really a png");
    ObjectMapper json = new ObjectMapper();

    CliRun one = cli("upload", "--json", "--server", url, a.toString());
    assertThat(one.exitCode()).as(one.toString()).isZero();
    JsonNode object = json.readTree(one.stdout());
    assertThat(object.isObject()).isTrue();
    assertThat(object.get("file").asText()).isEqualTo(a.toString());
    assertThat(object.get("size").asLong()).isEqualTo(5);
    assertThat(object.get("mime").asText()).startsWith("text/plain");
    assertThat(object.get("url").asText()).isEqualTo(url + "/" + object.get("fid").asText());
    assertThat(object.get("etag").asText()).isNotEmpty();

    CliRun two = cli("upload", "--json", "--server", url, a.toString(), b.toString());
    assertThat(two.exitCode()).as(two.toString()).isZero();
    JsonNode array = json.readTree(two.stdout());
    assertThat(array.isArray()).isTrue();
    assertThat(array).hasSize(2);
    assertThat(array.get(1).get("file").asText()).isEqualTo(b.toString());
    assertThat(array.get(1).get("mime").asText()).isEqualTo("image/png");
    assertThat(array.get(0).get("fid").asText()).isNotEqualTo(object.get("fid").asText());
  }

  @Test
  void downloadToFileAndToStdoutIsByteIdentical() throws IOException {
    byte[] data = random(1_500_000, 3);
    Path source = Files.write(tmp.resolve("big.bin"), data);
    String fid = uploadOne(source);

    Path target = tmp.resolve("copy.bin");
    CliRun toFile = cli("download", "--server", url, fid, "-o", target.toString());
    assertThat(toFile.exitCode()).as(toFile.toString()).isZero();
    assertThat(toFile.stdout()).isEmpty();
    assertThat(Files.readAllBytes(target)).isEqualTo(data);

    CliRun toStdout = cli("download", "--server", url, fid);
    assertThat(toStdout.exitCode()).as(toStdout.toString()).isZero();
    assertThat(toStdout.stdout()).isEqualTo(data);
    try (Stream<Path> left = Files.list(tmp)) {
      assertThat(left).containsExactlyInAnyOrder(source, target);
    }
  }

  @Test
  void removedFileIsNotFoundWithAClearMessage() throws IOException {
    String fid = uploadOne(Files.writeString(tmp.resolve("doomed.txt"), "bye"));

    CliRun rm = cli("rm", "--server", url, fid);
    assertThat(rm.exitCode()).as(rm.toString()).isZero();
    assertThat(rm.stdout()).isEmpty();
    assertThat(rm.stderr()).isEmpty();

    Path target = tmp.resolve("should-not-exist.txt");
    CliRun download = cli("download", "--server", url, fid, "-o", target.toString());
    assertThat(download.exitCode()).isEqualTo(ExitCode.NOT_FOUND.code());
    assertThat(download.stderr()).isEqualTo("wimg download: no file " + fid + " on " + url + "\n");
    assertThat(target).doesNotExist();

    CliRun again = cli("rm", "--server", url, fid);
    assertThat(again.exitCode()).isEqualTo(ExitCode.NOT_FOUND.code());
    assertThat(again.stderr()).isEqualTo("wimg rm: no file " + fid + " on " + url + "\n");
  }

  @Test
  void statusPrintsTheServersJson() throws IOException {
    CliRun r = cli("status", "--server", url);
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(new ObjectMapper().readTree(r.stdout()).isObject()).isTrue();
  }

  @Test
  void writeKeyAndUploadLimitAreEnforcedWithTheServersMessage() throws IOException {
    ServerConfig config = ServerConfig.defaults(testStore(tmp.resolve("data")))
        .withPort(0).withWriteKey("s3cret").withMaxUploadBytes(1 << 20);
    try (WimgServer guarded = WimgServer.start(config)) {
      String guardedUrl = "http://127.0.0.1:" + guarded.port();
      Path small = Files.writeString(tmp.resolve("small.txt"), "small");
      Path large = Files.write(tmp.resolve("large.bin"), random((1 << 20) + 1, 4));

      CliRun noKey = cli("upload", "--server", guardedUrl, small.toString());
      assertThat(noKey.exitCode()).as(noKey.toString()).isEqualTo(ExitCode.SERVER_ERROR.code());
      assertThat(noKey.stderr()).startsWith("wimg upload: " + small + ": ")
          .contains("(HTTP 401)")
          .endsWith("(give the server's write key with --key or WIMG_WRITE_KEY)\n");

      CliRun keyFromEnv = CliRun.run(Map.of("WIMG_WRITE_KEY", "s3cret"), tmp,
          "upload", "--server", guardedUrl, small.toString());
      assertThat(keyFromEnv.exitCode()).as(keyFromEnv.toString()).isZero();

      CliRun tooLarge = cli("upload", "--key", "s3cret", "--server", guardedUrl, large.toString());
      assertThat(tooLarge.exitCode()).as(tooLarge.toString()).isEqualTo(ExitCode.SERVER_ERROR.code());
      assertThat(tooLarge.stderr()).startsWith("wimg upload: " + large + ": ").contains("(HTTP 413)");
    }
  }

  @Test
  void verifyOfAStoppedServersDataReportsNoProblems() throws IOException {
    Path data = tmp.resolve("data");
    try (WimgServer own = WimgServer.start(ServerConfig.defaults(testStore(data)).withPort(0))) {
      String ownUrl = "http://127.0.0.1:" + own.port();
      List<String> fids = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        Path f = Files.write(tmp.resolve("f" + i), random(10_000 * i, 10 + i));
        CliRun r = cli("upload", "--server", ownUrl, f.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        fids.add(r.out().split(" ")[0]);
      }
      assertThat(cli("rm", "--server", ownUrl, fids.get(1)).exitCode()).isZero();
    }
    CliRun verify = cli("verify", data.toString());
    assertThat(verify.exitCode()).as(verify.toString()).isZero();
    assertThat(verify.out()).startsWith(data + ": 1 volume(s), ").endsWith(": no problems\n");
    assertThat(verify.stderr()).isEmpty();
  }

  @Test
  void verifyOfAVolumeWithAFlippedByteExitsCorruptAndNamesTheProblem() throws IOException {
    Path data = tmp.resolve("data");
    byte[] marker = "WIMG-TEST-MARKER-0123456789".repeat(40).getBytes(StandardCharsets.US_ASCII);
    try (WimgServer own = WimgServer.start(ServerConfig.defaults(testStore(data)).withPort(0))) {
      Path f = Files.write(tmp.resolve("marked.bin"), marker);
      CliRun r = cli("upload", "--server", "http://127.0.0.1:" + own.port(), f.toString());
      assertThat(r.exitCode()).as(r.toString()).isZero();
    }
    flipFirstByteOf(data, marker);

    CliRun verify = cli("verify", data.toString());
    assertThat(verify.exitCode()).as(verify.toString()).isEqualTo(ExitCode.CORRUPT.code());
    List<String> lines = verify.out().lines().toList();
    assertThat(lines.getFirst()).startsWith(data + ": 1 volume(s), ").endsWith(" 1 problem(s)");
    assertThat(lines).hasSize(2);
    assertThat(lines.get(1)).startsWith("  ").isNotBlank();
  }

  @Test
  void publicBindWithoutWriteKeyIsRefusedAsAUsageError() {
    CliRun r = cli("server", "--port", "0", "--bind", "0.0.0.0", "--data", tmp.resolve("d").toString());
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCode.USAGE.code());
    assertThat(r.stderr()).startsWith("wimg server: ").contains("key");
    assertThat(r.stdout()).isEmpty();
  }

  private CliRun cli(String... args) {
    return CliRun.run(Map.of(), tmp, args);
  }

  private String uploadOne(Path file) {
    CliRun r = cli("upload", "--server", url, file.toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    return r.out().split(" ")[0];
  }

  private static StoreConfig testStore(Path data) {
    return StoreConfig.defaults(data).withFsyncPolicy(FsyncPolicy.NEVER).withPreallocateBytes(1 << 20);
  }

  private static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  /** Flips one bit in the first copy of {@code marker} found in a file under {@code data}. */
  private static void flipFirstByteOf(Path data, byte[] marker) throws IOException {
    try (Stream<Path> files = Files.walk(data)) {
      for (Path p : files.filter(Files::isRegularFile).toList()) {
        byte[] bytes = Files.readAllBytes(p);
        int at = indexOf(bytes, marker);
        if (at >= 0) {
          bytes[at] ^= 0x01;
          Files.write(p, bytes);
          return;
        }
      }
    }
    throw new AssertionError("marker not found in any file under " + data);
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
