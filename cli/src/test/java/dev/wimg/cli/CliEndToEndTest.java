package dev.wimg.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.server.ServerConfig;
import dev.wimg.server.WimgServer;
import dev.wimg.storage.FsyncPolicy;
import dev.wimg.storage.StoreConfig;
import dev.wimg.testsupport.RequiresRoot;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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
      assertThat(noKey.stderr()).isEqualTo("wimg upload: " + small
          + ": this server needs a write key: pass --key or set WIMG_WRITE_KEY\n");

      CliRun wrongKey = cli("upload", "--key", "guess", "--server", guardedUrl, small.toString());
      assertThat(wrongKey.exitCode()).as(wrongKey.toString()).isEqualTo(ExitCode.SERVER_ERROR.code());
      assertThat(wrongKey.stderr()).isEqualTo("wimg upload: " + small
          + ": the server refused the write key (401)\n");
      CliRun wrongKeyRm = CliRun.run(Map.of("WIMG_WRITE_KEY", "guess"), tmp,
          "rm", "--server", guardedUrl, "1-1,109c2ab3e");
      assertThat(wrongKeyRm.exitCode()).as(wrongKeyRm.toString()).isEqualTo(ExitCode.SERVER_ERROR.code());
      assertThat(wrongKeyRm.stderr()).isEqualTo("wimg rm: the server refused the write key (401)\n");
      CliRun noKeyRm = cli("rm", "--server", guardedUrl, "1-1,109c2ab3e");
      assertThat(noKeyRm.stderr())
          .isEqualTo("wimg rm: this server needs a write key: pass --key or set WIMG_WRITE_KEY\n");

      CliRun keyFromEnv = CliRun.run(Map.of("WIMG_WRITE_KEY", "s3cret"), tmp,
          "upload", "--server", guardedUrl, small.toString());
      assertThat(keyFromEnv.exitCode()).as(keyFromEnv.toString()).isZero();

      CliRun tooLarge = cli("upload", "--key", "s3cret", "--server", guardedUrl, large.toString());
      assertThat(tooLarge.exitCode()).as(tooLarge.toString()).isEqualTo(ExitCode.SERVER_ERROR.code());
      assertThat(tooLarge.stderr()).startsWith("wimg upload: " + large + ": ").contains("(HTTP 413)");
    }
  }

  @Test
  void uploadTriesEveryFileReportsEachFailureAndExitsWithTheWorstCode() throws IOException {
    ServerConfig config = ServerConfig.defaults(testStore(tmp.resolve("data")))
        .withPort(0).withMaxUploadBytes(1 << 20);
    try (WimgServer limited = WimgServer.start(config)) {
      String limitedUrl = "http://127.0.0.1:" + limited.port();
      Path a = Files.writeString(tmp.resolve("a.txt"), "alpha");
      Path big1 = Files.write(tmp.resolve("big1.bin"), random((1 << 20) + 1, 5));
      Path b = Files.writeString(tmp.resolve("b.txt"), "beta");
      Path big2 = Files.write(tmp.resolve("big2.bin"), random((1 << 20) + 1, 6));
      Path c = Files.writeString(tmp.resolve("c.txt"), "gamma");
      String[] files = {a.toString(), big1.toString(), b.toString(), big2.toString(), c.toString()};

      CliRun text = cli(concat(new String[] {"upload", "--server", limitedUrl}, files));
      assertThat(text.exitCode()).as(text.toString()).isEqualTo(ExitCode.SERVER_ERROR.code());
      List<String> lines = text.out().lines().toList();
      assertThat(lines).hasSize(3);
      List<String> errors = text.stderr().lines().toList();
      assertThat(errors).hasSize(2);
      assertThat(errors.get(0)).startsWith("wimg upload: " + big1 + ": ").endsWith("(HTTP 413)");
      assertThat(errors.get(1)).startsWith("wimg upload: " + big2 + ": ").endsWith("(HTTP 413)");
      Path[] stored = {a, b, c};
      for (int i = 0; i < 3; i++) {
        CliRun back = cli("download", "--server", limitedUrl, lines.get(i).split(" ")[0]);
        assertThat(back.stdout()).isEqualTo(Files.readAllBytes(stored[i]));
      }

      CliRun json = cli(concat(new String[] {"upload", "--json", "--server", limitedUrl}, files));
      assertThat(json.exitCode()).as(json.toString()).isEqualTo(ExitCode.SERVER_ERROR.code());
      JsonNode array = new ObjectMapper().readTree(json.stdout());
      assertThat(array.isArray()).isTrue();
      assertThat(array).hasSize(3);
      assertThat(array.get(2).get("file").asText()).isEqualTo(c.toString());
      assertThat(json.stderr().lines().toList()).hasSize(2);
    }
    String unreachable = "http://127.0.0.1:" + closedPort();
    Path one = Files.writeString(tmp.resolve("one.txt"), "1");
    Path two = Files.writeString(tmp.resolve("two.txt"), "2");
    CliRun down = cli("upload", "--server", unreachable, one.toString(), two.toString());
    assertThat(down.exitCode()).isEqualTo(ExitCode.UNREACHABLE.code());
    assertThat(down.stderr().lines().toList()).hasSize(2);
    assertThat(down.stderr()).contains("wimg upload: " + one + ": cannot reach", "wimg upload: " + two + ": cannot reach");
  }

  @Test
  void uploadOfAMissingFileOrAFolderStoresTheOtherFilesAndExitsFailure() throws IOException {
    Path good = Files.write(tmp.resolve("good.jpg"), random(5_000, 23));
    Path missing = tmp.resolve("nonexistent.jpg");
    Path folder = Files.createDirectory(tmp.resolve("folder"));

    CliRun r = cli("upload", "--server", url, good.toString(), missing.toString(), folder.toString());

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCode.FAILURE.code());
    assertThat(r.stderr()).isEqualTo("wimg upload: " + missing + ": no such file\n"
        + "wimg upload: " + folder + ": is a folder, not a file\n");
    List<String> lines = r.out().lines().toList();
    assertThat(lines).hasSize(1);
    Matcher m = LINE.matcher(lines.getFirst());
    assertThat(m.matches()).as(lines.getFirst()).isTrue();
    assertThat(m.group(2)).isEqualTo(url + "/" + m.group(1));
    assertThat(cli("download", "--server", url, m.group(1)).stdout()).isEqualTo(Files.readAllBytes(good));
  }

  @Test
  void commandsThatCannotWriteStdoutExitFailureAndUploadNamesTheStoredFid() throws IOException {
    Path a = Files.writeString(tmp.resolve("a.txt"), "alpha");
    Path b = Files.writeString(tmp.resolve("b.txt"), "beta");
    String lost = "cannot write to stdout: a write failed (disk full, or the reader closed the pipe?)";

    CliRun upload = CliRun.runWithBrokenStdout(Map.of(), tmp, "upload", "--server", url, a.toString(), b.toString());
    assertThat(upload.exitCode()).as(upload.toString()).isEqualTo(ExitCode.FAILURE.code());
    Matcher stored = Pattern.compile("wimg upload: " + Pattern.quote(lost)
        + "; stored but maybe not printed: (\\S+) " + Pattern.quote(url) + "/(\\S+)\n").matcher(upload.stderr());
    assertThat(stored.matches()).as(upload.stderr()).isTrue();
    assertThat(stored.group(2)).isEqualTo(stored.group(1));
    assertThat(cli("download", "--server", url, stored.group(1)).out()).isEqualTo("alpha");

    CliRun json = CliRun.runWithBrokenStdout(Map.of(), tmp, "upload", "--json", "--server", url, a.toString(), b.toString());
    assertThat(json.exitCode()).as(json.toString()).isEqualTo(ExitCode.FAILURE.code());
    assertThat(json.stderr()).startsWith("wimg upload: " + lost + "; stored but maybe not printed: ")
        .contains(", ").endsWith("\n");

    CliRun status = CliRun.runWithBrokenStdout(Map.of(), tmp, "status", "--server", url);
    assertThat(status.exitCode()).as(status.toString()).isEqualTo(ExitCode.FAILURE.code());
    assertThat(status.stderr()).isEqualTo("wimg status: " + lost + "\n");

    CliRun download = CliRun.runWithBrokenStdout(Map.of(), tmp, "download", "--server", url, stored.group(1));
    assertThat(download.exitCode()).as(download.toString()).isEqualTo(ExitCode.FAILURE.code());
    assertThat(download.stderr()).isEqualTo("wimg download: " + lost + "\n");
  }

  @Test
  void downloadIntoAMissingFolderIsAUsageErrorAndIntoAFolderSavesUnderTheFid() throws IOException {
    String fid = uploadOne(Files.writeString(tmp.resolve("x.txt"), "content"));
    Path missing = tmp.resolve("missing").resolve("dir");

    CliRun r = cli("download", "--server", url, fid, "-o", missing.resolve("x.jpg").toString());
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCode.USAGE.code());
    assertThat(r.stderr()).startsWith("wimg download: folder " + missing + " does not exist\n"
        + "Usage: wimg download ");
    assertThat(tmp.resolve("missing")).doesNotExist();

    Path folder = Files.createDirectory(tmp.resolve("into"));
    CliRun into = cli("download", "--server", url, fid, "-o", folder.toString());
    assertThat(into.exitCode()).as(into.toString()).isZero();
    assertThat(into.stderr()).isEmpty();
    assertThat(folder.resolve(fid)).hasContent("content");
    try (Stream<Path> left = Files.list(folder)) {
      assertThat(left).containsExactly(folder.resolve(fid));
    }
  }

  @Test
  void downloadToASymlinkWritesThroughToItsTargetAndKeepsTheLink() throws IOException {
    byte[] data = random(200_000, 20);
    String fid = uploadOne(Files.write(tmp.resolve("source.bin"), data));
    Path target = Files.writeString(tmp.resolve("target.jpg"), "old picture");
    Path link = Files.createSymbolicLink(tmp.resolve("mylink"), target.getFileName());

    CliRun r = cli("download", "--server", url, fid, "-o", link.toString());

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stderr()).isEmpty();
    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(Files.readSymbolicLink(link)).isEqualTo(target.getFileName());
    assertThat(Files.readAllBytes(target)).isEqualTo(data);
    try (Stream<Path> left = Files.list(tmp)) {
      assertThat(left).containsExactlyInAnyOrder(tmp.resolve("source.bin"), target, link);
    }
  }

  @Test
  void downloadOfAMissingFidToASymlinkLeavesItsTargetUntouched() throws IOException {
    String fid = uploadOne(Files.writeString(tmp.resolve("doomed.txt"), "bye"));
    assertThat(cli("rm", "--server", url, fid).exitCode()).isZero();
    Path target = Files.writeString(tmp.resolve("target.jpg"), "old picture");
    Path link = Files.createSymbolicLink(tmp.resolve("mylink"), target);

    CliRun r = cli("download", "--server", url, fid, "-o", link.toString());

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCode.NOT_FOUND.code());
    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(target).hasContent("old picture");
  }

  @Test
  void downloadToAFifoWritesIntoItWithoutReplacingIt() throws Exception {
    byte[] data = random(300_000, 21);
    String fid = uploadOne(Files.write(tmp.resolve("source.bin"), data));
    Path fifo = tmp.resolve("myfifo");
    runTool("mkfifo", fifo.toString());
    CompletableFuture<byte[]> read = new CompletableFuture<>();
    // A daemon: if the download never opens the FIFO, the reader stays blocked in open() but the
    // test still ends, failing on the timeout below.
    Thread.ofPlatform().daemon().name("fifo-reader").start(() -> {
      try {
        read.complete(Files.readAllBytes(fifo));
      } catch (IOException | RuntimeException e) {
        read.completeExceptionally(e);
      }
    });

    CliRun r = cli("download", "--server", url, fid, "-o", fifo.toString());

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stderr()).isEmpty();
    assertThat(read.get(60, TimeUnit.SECONDS)).isEqualTo(data);
    assertThat(fileType(fifo)).isEqualTo(S_IFIFO);
  }

  @Test
  @RequiresRoot("create a device node with mknod (the FIFO test covers writing in place without it)")
  void downloadToAFullDeviceFailsWithTheReasonAndLeavesTheDevice() throws Exception {
    String fid = uploadOne(Files.write(tmp.resolve("source.bin"), random(10_000, 22)));
    Path full = tmp.resolve("myfull");
    // Device 1:7 is /dev/full (every write fails with ENOSPC); only root may create device nodes.
    runTool("mknod", full.toString(), "c", "1", "7");
    assertThat(fileType(full)).isEqualTo(S_IFCHR);

    CliRun r = cli("download", "--server", url, fid, "-o", full.toString());

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCode.FAILURE.code());
    assertThat(r.stderr()).isEqualTo("wimg download: cannot write to " + full + ": No space left on device\n");
    assertThat(fileType(full)).isEqualTo(S_IFCHR);
    try (Stream<Path> left = Files.list(tmp)) {
      assertThat(left).containsExactlyInAnyOrder(tmp.resolve("source.bin"), full);
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

  /** File type bits of {@code st_mode} (see {@code man 7 inode}). */
  private static final int S_IFMT = 0170000;
  private static final int S_IFIFO = 0010000;
  private static final int S_IFCHR = 0020000;

  /** The {@code S_IFMT} bits of {@code path} itself (a link is not followed). */
  private static int fileType(Path path) throws IOException {
    return (int) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS) & S_IFMT;
  }

  private static void runTool(String... command) throws IOException, InterruptedException {
    int code = runToolQuietly(command);
    assertThat(code).as(String.join(" ", command)).isZero();
  }

  /** Runs a command, its output discarded, and returns its exit status. */
  private static int runToolQuietly(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", command) + " did not finish in 60 s");
    }
    return p.exitValue();
  }

  private static String[] concat(String[] a, String[] b) {
    String[] all = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  /** A loopback port nothing listens on (bound, then released). */
  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
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

  /** Where {@code needle} first occurs in {@code haystack}, or -1. */
  static int indexOf(byte[] haystack, byte[] needle) {
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
