package dev.wimg.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.wimg.client.ServerUnreachableException;
import dev.wimg.client.UploadResult;
import dev.wimg.client.WimgClient;
import dev.wimg.server.ServerConfig;
import dev.wimg.server.WimgServer;
import dev.wimg.storage.FsyncPolicy;
import dev.wimg.storage.StoreConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --server URL,URL...} and the client's list of URLs against real {@link WimgServer}s on
 * ephemeral ports: a dead URL first (a closed port) is skipped by every command, all dead is one
 * clear error, tracker redirects are followed, and {@code wimg status} prints a tracker's
 * {@code /cluster} as a table.
 *
 * <p>The tracker does not exist yet, so its two answers the client relies on are played by a
 * stand-in ({@link #standInTracker}, JDK {@code com.sun.net.httpserver}): a {@code 307} to a real
 * storage server for {@code GET}/{@code HEAD}/{@code DELETE} of a fid, and a fixed {@code /cluster}
 * document. Once the tracker exists, these tests should run against it instead.
 */
class ServerListTest {

  private static final String WRITE_KEY = "s3cret-key";

  @TempDir Path tmp;
  private WimgServer live;
  private String liveUrl;
  private final List<HttpServer> standIns = new ArrayList<>();

  @BeforeEach
  void startServer() throws IOException {
    live = WimgServer.start(ServerConfig.defaults(testStore(tmp.resolve("live"))).withPort(0)
        .withWriteKey(WRITE_KEY));
    liveUrl = "http://127.0.0.1:" + live.port();
  }

  @AfterEach
  void stop() {
    standIns.forEach(s -> s.stop(0));
    if (live != null) {
      live.close();
    }
  }

  @Test
  void everyCommandSkipsADeadServerFirstInTheList() throws IOException {
    String dead = "http://127.0.0.1:" + closedPort();
    String list = dead + "," + liveUrl;
    byte[] data = random(70_000, 1);
    Path file = Files.write(tmp.resolve("photo.bin"), data);

    CliRun upload = cli("upload", "--key", WRITE_KEY, "--server", list, file.toString());
    assertThat(upload.exitCode()).as(upload.toString()).isZero();
    assertThat(upload.stderr()).isEmpty();
    String[] line = upload.out().strip().split(" ");
    String fid = line[0];
    assertThat(line[1]).isEqualTo(liveUrl + "/" + fid);

    CliRun download = cli("download", "--server", list, fid);
    assertThat(download.exitCode()).as(download.toString()).isZero();
    assertThat(download.stdout()).isEqualTo(data);

    CliRun status = cli("status", "--server", list);
    assertThat(status.exitCode()).as(status.toString()).isZero();
    assertThat(new ObjectMapper().readTree(status.stdout()).path("needles").asLong()).isEqualTo(1);
    // A single server has no cluster view: --json changes nothing, its status is JSON either way.
    CliRun statusJson = cli("status", "--json", "--server", list);
    assertThat(statusJson.exitCode()).as(statusJson.toString()).isZero();
    assertThat(new ObjectMapper().readTree(statusJson.stdout()).path("needles").asLong()).isEqualTo(1);

    CliRun rm = cli("rm", "--key", WRITE_KEY, "--server", list, fid);
    assertThat(rm.exitCode()).as(rm.toString()).isZero();
    assertThat(rm.stderr()).isEmpty();
    CliRun gone = cli("download", "--server", list, fid);
    assertThat(gone.exitCode()).isEqualTo(ExitCode.NOT_FOUND.code());
    assertThat(gone.stderr()).isEqualTo("wimg download: no file " + fid + " on " + liveUrl + "\n");
  }

  @Test
  void everyServerDeadExitsUnreachableNamingEachUrlAndWhy() throws IOException {
    String dead1 = "http://127.0.0.1:" + closedPort();
    String dead2 = "http://127.0.0.1:" + closedPort();
    String expected = "cannot reach any of 2 WIMG servers: " + dead1 + ": connection refused; " + dead2
        + ": connection refused (are they running? Point elsewhere with --server or WIMG_SERVER)\n";
    Path file = Files.writeString(tmp.resolve("a.txt"), "a");

    CliRun upload = CliRun.run(Map.of("WIMG_SERVER", dead1 + ", " + dead2), tmp, "upload", file.toString());
    assertThat(upload.exitCode()).as(upload.toString()).isEqualTo(ExitCode.UNREACHABLE.code());
    assertThat(upload.stderr()).isEqualTo("wimg upload: " + file + ": " + expected);
    for (String command : new String[] {"download", "rm"}) {
      CliRun r = cli(command, "--server", dead1 + "," + dead2, "1-1,109c2ab3e");
      assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCode.UNREACHABLE.code());
      assertThat(r.stderr()).isEqualTo("wimg " + command + ": " + expected);
    }
    CliRun status = cli("status", "--server", dead1 + "," + dead2);
    assertThat(status.exitCode()).as(status.toString()).isEqualTo(ExitCode.UNREACHABLE.code());
    assertThat(status.stderr()).isEqualTo("wimg status: " + expected);
  }

  @Test
  void aBadUrlInTheListIsAUsageErrorNamingItAndWhereItCameFrom() {
    CliRun flag = cli("status", "--server", liveUrl + ",ftp://files.example");
    assertThat(flag.exitCode()).isEqualTo(ExitCode.USAGE.code());
    assertThat(flag.stderr()).startsWith("wimg status: Invalid value for option '--server': 'ftp://files.example'"
        + " is not a server URL like http://127.0.0.1:9333: server URL must start with http:// or https://,"
        + " got ftp://files.example\nUsage: wimg status ");

    CliRun empty = CliRun.run(Map.of("WIMG_SERVER", liveUrl + ",,127.0.0.1:1"), tmp, "rm", "1-1,109c2ab3e");
    assertThat(empty.exitCode()).isEqualTo(ExitCode.USAGE.code());
    assertThat(empty.stderr()).startsWith("wimg rm: Invalid value for option '--server': '" + liveUrl
        + ",,127.0.0.1:1' has an empty entry: give server URLs like http://127.0.0.1:9333, separated by"
        + " single commas (from environment variable WIMG_SERVER)\n");

    CliRun twice = cli("download", "--server", "127.0.0.1:1,http://127.0.0.1:1/", "1-1,109c2ab3e");
    assertThat(twice.exitCode()).isEqualTo(ExitCode.USAGE.code());
    assertThat(twice.stderr()).startsWith("wimg download: Invalid value for option '--server': "
        + "'127.0.0.1:1,http://127.0.0.1:1/': server URL http://127.0.0.1:1 is listed twice\n");
  }

  @Test
  void clientMovesOnFromADeadServerAndStartsFromTheOneThatAnswered() throws IOException {
    URI dead = URI.create("http://127.0.0.1:" + closedPort());
    URI liveUri = URI.create(liveUrl);
    try (WimgServer second = WimgServer.start(ServerConfig.defaults(testStore(tmp.resolve("second")))
             .withPort(0).withWriteKey(WRITE_KEY));
         WimgClient client = WimgClient.builder(List.of(dead, liveUri,
             URI.create("http://127.0.0.1:" + second.port()))).writeKey(WRITE_KEY).build()) {
      byte[] data = random(5_000, 2);
      UploadResult r = client.upload(data, "x.bin", null);
      assertThat(client.server()).isEqualTo(liveUri);
      assertThat(client.download(r.fid())).isEqualTo(data);
      assertThat(client.status().path("needles").isMissingNode()).isFalse();
      assertThat(client.cluster()).isEmpty();
      assertThat(client.delete(r.fid())).isTrue();
      assertThat(client.delete(r.fid())).isFalse();

      // The server that answered last dies: the next call moves on past it to the third URL.
      // (That a call starts with the URL that answered last is checked with a counting stand-in
      // in the client module's WimgClientFailoverTest: a closed port cannot count attempts.)
      live.close();
      UploadResult again = client.upload(data, "y.bin", null);
      assertThat(client.server()).isEqualTo(URI.create("http://127.0.0.1:" + second.port()));
      assertThat(client.download(again.fid())).isEqualTo(data);
    }
  }

  @Test
  void downloadAndDeleteFollowATrackerRedirectWithTheWriteKey() throws IOException {
    List<String> trackerSaw = new CopyOnWriteArrayList<>();
    String tracker = standInTracker(trackerSaw, null);
    byte[] data = random(300_000, 3);
    String fid;
    try (WimgClient direct = WimgClient.builder(URI.create(liveUrl)).writeKey(WRITE_KEY).build()) {
      fid = direct.upload(data, "big.bin", null).fid();
    }

    CliRun download = cli("download", "--server", "http://127.0.0.1:" + closedPort() + "," + tracker, fid);
    assertThat(download.exitCode()).as(download.toString()).isZero();
    assertThat(download.stdout()).isEqualTo(data);
    Path target = tmp.resolve("copy.bin");
    CliRun toFile = cli("download", "--server", tracker, fid, "-o", target.toString());
    assertThat(toFile.exitCode()).as(toFile.toString()).isZero();
    assertThat(target).hasBinaryContent(data);

    CliRun noKey = cli("rm", "--server", tracker, fid);
    assertThat(noKey.exitCode()).as(noKey.toString()).isEqualTo(ExitCode.SERVER_ERROR.code());
    assertThat(noKey.stderr()).isEqualTo("wimg rm: this server needs a write key: pass --key or set WIMG_WRITE_KEY\n");
    CliRun rm = cli("rm", "--key", WRITE_KEY, "--server", tracker, fid);
    assertThat(rm.exitCode()).as(rm.toString()).isZero();
    CliRun gone = cli("download", "--server", liveUrl, fid);
    assertThat(gone.exitCode()).as(gone.toString()).isEqualTo(ExitCode.NOT_FOUND.code());

    try (WimgClient client = WimgClient.builder(URI.create(tracker)).writeKey(WRITE_KEY).build()) {
      String second = client.upload(data, "again.bin", null).fid();
      assertThat(client.download(second)).isEqualTo(data);
      assertThat(client.delete(second)).isTrue();
      assertThat(client.delete(second)).isFalse();
    }
    // Each client asks for /cluster once first (this stand-in answers 404, as a single server); a
    // download to a file asks HEAD first (a large file would come as parallel ranges).
    assertThat(trackerSaw).containsExactly("GET /cluster", "GET /" + fid, "GET /cluster", "HEAD /" + fid,
        "GET /" + fid,
        "GET /cluster", "DELETE /" + fid, "GET /cluster", "DELETE /" + fid,
        "GET /cluster", "POST /files", "GET /" + fidOfLast(trackerSaw), "DELETE /" + fidOfLast(trackerSaw),
        "DELETE /" + fidOfLast(trackerSaw));
  }

  @Test
  void statusOfATrackerPrintsItsClusterAsATableWithDownMembersVisible() throws IOException {
    String document = """
        {"groups":[
          {"id":1,"writable":true,"members":[
            {"id":"3f1c0a9b7d2e","url":"http://127.0.0.1:9401","zone":"default","state":"serving",
             "freeBytes":123456789,"load":0,"needles":42,"silentMillis":310},
            {"id":"77aa0b1c","url":"http://127.0.0.1:9402","zone":"default","state":"down",
             "freeBytes":5368709120,"load":3,"needles":40,"silentMillis":754000}]},
          {"id":2,"writable":false,"members":[
            {"id":"c0ffee00aa","url":"http://127.0.0.1:9411","zone":"rack-b","state":"catching-up",
             "freeBytes":900,"load":1.25,"needles":7,"silentMillis":12500,"volumes":[3]},
            {"url":"http://127.0.0.1:9412","state":"read-only"}]}],
         "trackers":["http://127.0.0.1:9400","http://127.0.0.1:9410"],"version":2}""";
    String tracker = standInTracker(new CopyOnWriteArrayList<>(), document);

    CliRun r = cli("status", "--server", "http://127.0.0.1:" + closedPort() + "," + tracker);

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stderr()).isEmpty();
    assertThat(r.out()).isEqualTo("""
        GROUP  WRITABLE  MEMBER    URL                    ZONE     STATE             FREE  LOAD  NEEDLES  LAST HEARD
        1      yes       3f1c0a9b  http://127.0.0.1:9401  default  serving      117.7 MiB     0       42   0.3 s ago
        1      yes       77aa0b1c  http://127.0.0.1:9402  default  down           5.0 GiB     3       40  12 min ago
        2      no        c0ffee00  http://127.0.0.1:9411  rack-b   catching-up      900 B  1.25        7    12 s ago
        2      no        -         http://127.0.0.1:9412  -        read-only            -     -        -           -

        2 groups (1 writable), 4 members: 1 catching-up, 1 down, 1 read-only, 1 serving
        trackers: http://127.0.0.1:9400, http://127.0.0.1:9410
        """);

    CliRun json = cli("status", "--json", "--server", tracker);
    assertThat(json.exitCode()).as(json.toString()).isZero();
    ObjectMapper mapper = new ObjectMapper();
    assertThat(mapper.readTree(json.stdout())).isEqualTo(mapper.readTree(document));
  }

  /**
   * A stand-in for a tracker, which does not exist yet: {@code GET}, {@code HEAD} and
   * {@code DELETE} of a fid answer {@code 307} to the same path on the real server, as a tracker
   * redirects to a storage node of the fid's group; {@code POST /files} is passed to the real server
   * and its answer sent back, as a tracker does; {@code GET /cluster} answers {@code cluster} (or
   * 404 if null). Each request is recorded in {@code saw} as method and path.
   */
  private String standInTracker(List<String> saw, String cluster) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", ex -> {
      try (ex) {
        String path = ex.getRequestURI().getRawPath();
        saw.add(ex.getRequestMethod() + " " + path);
        byte[] request = ex.getRequestBody().readAllBytes();
        if (path.equals("/cluster")) {
          byte[] body = cluster == null ? "{\"error\":\"no such resource\",\"status\":404}".getBytes(StandardCharsets.UTF_8)
              : cluster.getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().set("Content-Type", "application/json");
          ex.sendResponseHeaders(cluster == null ? 404 : 200, body.length);
          ex.getResponseBody().write(body);
        } else if (ex.getRequestMethod().equals("POST")) {
          try (WimgClient passOn = WimgClient.builder(URI.create(liveUrl)).writeKey(WRITE_KEY).build()) {
            UploadResult r = passOn.upload(request, null, null);
            byte[] body = new ObjectMapper().writeValueAsBytes(r);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(201, body.length);
            ex.getResponseBody().write(body);
          }
        } else {
          ex.getResponseHeaders().set("Location", liveUrl + ex.getRequestURI());
          ex.sendResponseHeaders(307, -1);
        }
      }
    });
    server.start();
    standIns.add(server);
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The fid in the last request {@code saw} recorded. */
  private static String fidOfLast(List<String> saw) {
    String last = saw.getLast();
    return last.substring(last.indexOf('/') + 1);
  }

  private CliRun cli(String... args) {
    return CliRun.run(Map.of(), tmp, args);
  }

  /** A loopback port nothing listens on (bound, then released). */
  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static StoreConfig testStore(Path data) {
    return StoreConfig.defaults(data).withFsyncPolicy(FsyncPolicy.NEVER).withPreallocateBytes(1 << 20);
  }

  private static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }
}
