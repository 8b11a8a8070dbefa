package dev.wimg.client;

import static dev.wimg.client.StandIns.reply;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the client reads answers the real server does not normally give: error pages from a proxy,
 * bodies that break off, acknowledgements that do not match what was sent. The happy path against
 * the real server is tested end to end in the cli module ({@code CliEndToEndTest}).
 */
class WimgClientProtocolTest {

  @TempDir Path tmp;
  private final StandIns standIns = new StandIns();

  @AfterEach
  void stopStandIns() {
    standIns.close();
  }

  @Test
  void serverJsonErrorBecomesWimgExceptionWithStatusAndMessage() throws IOException {
    try (WimgClient client = WimgClient.create(standIns.start(ex ->
        reply(ex, 413, "application/json", "{\"error\":\"body exceeds 64 MiB\",\"status\":413}")))) {
      assertThatThrownBy(() -> client.upload(new byte[10], "a.bin", null))
          .isInstanceOfSatisfying(WimgException.class, e -> {
            assertThat(e.status()).isEqualTo(413);
            assertThat(e.serverMessage()).isEqualTo("body exceeds 64 MiB");
            assertThat(e).hasMessage("body exceeds 64 MiB (HTTP 413)");
          });
    }
  }

  @Test
  void nonJsonErrorPageIsQuotedWithoutControlCharacters() throws IOException {
    try (WimgClient client = WimgClient.create(standIns.start(ex ->
        reply(ex, 502, "text/html", "<h1>Bad\u001b[31m gateway</h1>\n")))) {
      assertThatThrownBy(() -> client.download("1-1,109c2ab3e"))
          .isInstanceOfSatisfying(WimgException.class, e -> {
            assertThat(e.status()).isEqualTo(502);
            assertThat(e.serverMessage()).isEqualTo("unexpected answer: <h1>Bad [31m gateway</h1>");
          });
    }
  }

  @Test
  void connectionRefusedNamesTheServerUrl() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    URI server = URI.create("http://127.0.0.1:" + port);
    try (WimgClient client = WimgClient.create(server)) {
      assertThatThrownBy(client::status)
          .isInstanceOfSatisfying(ServerUnreachableException.class, e -> {
            assertThat(e.server()).isEqualTo(server);
            assertThat(e).hasMessage("cannot reach the WIMG server at " + server + ": connection refused");
          });
    }
  }

  @Test
  void downloadThatBreaksOffLeavesTargetUntouchedAndNoPartialFile() throws Exception {
    Path target = tmp.resolve("out.bin");
    Files.writeString(target, "previous");
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread.ofVirtual().start(() -> {
        // every connection (the download's HEAD, then its GET) is promised 1000 bytes and given 10
        while (!listener.isClosed()) {
          try (Socket s = listener.accept()) {
            readRequestHead(s.getInputStream());
            OutputStream out = s.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[10]);
            out.flush();
          } catch (IOException ignored) {
            // The assertion below is on the client side.
          }
        }
      });
      URI server = URI.create("http://127.0.0.1:" + listener.getLocalPort());
      // This stand-in answers file requests only: no /cluster is asked before the download.
      try (WimgClient client = WimgClient.builder(server).directToNodes(false).build()) {
        assertThatThrownBy(() -> client.download("1-1,109c2ab3e", target)).isInstanceOf(IOException.class);
      }
    }
    assertThat(Files.readString(target)).isEqualTo("previous");
    try (var files = Files.list(tmp)) {
      assertThat(files).containsExactly(target);
    }
  }

  @Test
  void uploadAcknowledgingAnotherSizeIsRejected() throws IOException {
    try (WimgClient client = WimgClient.create(standIns.start(ex -> reply(ex, 201, "application/json",
        "{\"fid\":\"1-1,109c2ab3e\",\"url\":\"/1-1,109c2ab3e\",\"size\":3,\"mime\":null,\"etag\":\"\\\"1\\\"\"}")))) {
      assertThatThrownBy(() -> client.upload(new byte[5], "five.bin", null))
          .isInstanceOf(IOException.class)
          .hasMessageEndingWith("acknowledged 3 bytes for fid 1-1,109c2ab3e but 5 were sent");
    }
  }

  @Test
  void uploadAcknowledgedWithAPathInsteadOfAFidIsRejected() throws IOException {
    try (WimgClient client = WimgClient.create(standIns.start(ex -> reply(ex, 201, "application/json",
        "{\"fid\":\"../status\",\"url\":\"/../status\",\"size\":0}")))) {
      assertThatThrownBy(() -> client.upload(new byte[0], "empty", null))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("answered an upload without a valid fid");
    }
  }

  @Test
  void fidWithPathCharactersIsRejectedBeforeAnythingIsSent() throws IOException {
    List<String> paths = new CopyOnWriteArrayList<>();
    try (WimgClient client = WimgClient.create(standIns.start(ex -> {
      paths.add(ex.getRequestURI().getRawPath());
      reply(ex, 204, null, "");
    }))) {
      assertThatThrownBy(() -> client.delete("../files"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("not a file id: fid has an unexpected character at 0: ../files");
    }
    assertThat(paths).isEmpty();
  }

  @Test
  void textThatIsUrlSafeButNotAFidIsRejectedBeforeAnythingIsSent() throws IOException {
    List<String> paths = new CopyOnWriteArrayList<>();
    try (WimgClient client = WimgClient.create(standIns.start(ex -> {
      paths.add(ex.getRequestURI().getRawPath());
      reply(ex, 204, null, "");
    }))) {
      // A leading zero in the key, upper-case hex, a missing cookie: each has only the characters
      // a fid has, so a shape check would send them; Fid.parse names what is wrong.
      assertThatThrownBy(() -> client.delete("1-1,0109c2ab3e"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("not a file id: fid key has a leading zero: 1-1,0109c2ab3e");
      assertThatThrownBy(() -> client.download("1-1,109C2AB3E"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("not a file id: fid has an unexpected character at 7: 1-1,109C2AB3E");
      assertThatThrownBy(() -> client.urlOf("1-1,1f"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("not a file id: fid key+cookie must be 9..16 hex digits, got 2: 1-1,1f");
    }
    assertThat(paths).isEmpty();
  }

  @Test
  void uploadAcknowledgedWithUrlSafeTextThatIsNotAFidIsRejected() throws IOException {
    try (WimgClient client = WimgClient.create(standIns.start(ex -> reply(ex, 201, "application/json",
        "{\"fid\":\"files_1\",\"url\":\"/files_1\",\"size\":0}")))) {
      assertThatThrownBy(() -> client.upload(new byte[0], "empty", null))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("answered an upload without a valid fid");
    }
  }

  @Test
  void writeKeyIsSentWithUploadsAndDeletesOnly() throws IOException {
    List<String> seen = new CopyOnWriteArrayList<>();
    try (WimgClient client = WimgClient.builder(standIns.start(ex -> {
      seen.add(ex.getRequestMethod() + " " + ex.getRequestURI() + " "
          + ex.getRequestHeaders().getFirst("Authorization"));
      ex.getRequestBody().readAllBytes();
      switch (ex.getRequestMethod()) {
        case "POST" -> reply(ex, 201, "application/json",
            "{\"fid\":\"1-1,109c2ab3e\",\"url\":\"/1-1,109c2ab3e\",\"size\":2,\"mime\":\"text/plain\",\"etag\":\"\\\"a\\\"\"}");
        case "DELETE" -> reply(ex, 204, null, "");
        default -> reply(ex, 200, "application/octet-stream", "hi");
      }
    })).writeKey("s3cret").build()) {
      UploadResult r = client.upload("hi".getBytes(StandardCharsets.UTF_8), "a b.txt", "text/plain");
      assertThat(r).isEqualTo(new UploadResult("1-1,109c2ab3e", "/1-1,109c2ab3e", 2, "text/plain", "\"a\""));
      assertThat(client.urlOf(r)).isEqualTo(URI.create(client.server() + "/1-1,109c2ab3e"));
      assertThat(client.download(r.fid())).asString(StandardCharsets.UTF_8).isEqualTo("hi");
      assertThat(client.delete(r.fid())).isTrue();
    }
    assertThat(seen).containsExactly(
        "GET /cluster null",
        "POST /files?name=a%20b.txt Bearer s3cret",
        "GET /1-1,109c2ab3e null",
        "DELETE /1-1,109c2ab3e Bearer s3cret");
  }

  @Test
  void serverUrlMustBeHttpWithAHost() {
    assertThatThrownBy(() -> WimgClient.create(URI.create("ftp://example.org")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("server URL must start with http:// or https://, got ftp://example.org");
    assertThat(WimgClient.create(URI.create("http://example.org:9333/")).server())
        .isEqualTo(URI.create("http://example.org:9333"));
  }

  private static void readRequestHead(InputStream in) throws IOException {
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    for (int b; matched < 4 && (b = in.read()) >= 0; ) {
      matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
    }
  }
}
