package dev.wimg.server;

import static dev.wimg.server.TestServer.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keep-alive, pipelining and the timeouts that cut off slow, silent and non-reading clients.
 *
 * <p>Two servers, so that no outcome depends on how fast this machine runs the test:
 * {@link #server} has an idle timeout far longer than any test, so keep-alive and pipelining hold
 * however long the client takes between requests; {@link #impatient} has 1 s, for the tests of
 * the cut-offs, which only assert that a cut-off happens (a loaded machine can delay it, never
 * prevent it; {@link RawConnection#READ_TIMEOUT_MILLIS} bounds the wait).
 */
@ExtendWith(NettyLeakCheck.class)
class ConnectionTest {

  /** Longer than the whole test class takes, so that no connection here idles out. */
  private static final Duration PATIENT = Duration.ofMinutes(10);

  /** The slow reader's receive buffer and largest read, bytes. */
  private static final int READ_CHUNK = 64 << 10;
  /** The slow reader's pause after each read: with READ_CHUNK, a ceiling of about 2 MiB/s. */
  private static final Duration READ_PAUSE = Duration.ofMillis(30);

  @TempDir
  static Path dir;
  static TestServer server;
  static TestServer impatient;

  @BeforeAll
  static void start() throws IOException {
    server = TestServer.start(TestServer.config(dir.resolve("patient")).withIdleTimeout(PATIENT));
    impatient = TestServer.start(TestServer.config(dir.resolve("impatient")).withIdleTimeout(Duration.ofSeconds(1)));
  }

  @AfterAll
  static void stop() {
    server.close();
    impatient.close();
  }

  static String get(String path) {
    return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  }

  @Test
  void keepAliveServesSeveralRequestsOnOneConnectionWithServerAndDateHeaders() throws IOException {
    String url = server.upload(randomBytes(10, 1), null, null).get("url").asText();
    try (RawConnection raw = server.raw()) {
      for (int i = 0; i < 3; i++) {
        raw.send(get(url));
        RawConnection.Response response = raw.read();
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("connection")).isNull();
        assertThat(response.header("server")).isEqualTo("wimg");
        assertThat(response.header("date")).matches("\\w{3}, \\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT");
      }
    }
  }

  @Test
  void aThousandPipelinedGetsInOneWriteAreAllAnsweredInOrder() throws IOException {
    String url = server.upload(randomBytes(5, 7), null, null).get("url").asText();
    try (RawConnection raw = server.raw()) {
      StringBuilder burst = new StringBuilder();
      for (int i = 0; i < 1000; i++) {
        burst.append(get(i % 2 == 0 ? url : "/status"));
      }
      raw.send(burst.toString());
      for (int i = 0; i < 1000; i++) {
        RawConnection.Response response = raw.read();
        assertThat(response.status()).as("response %d", i).isEqualTo(200);
        if (i % 2 == 0) {
          assertThat(response.body()).isEqualTo(randomBytes(5, 7));
        }
      }
      raw.send(get("/status"));
      assertThat(raw.read().status()).isEqualTo(200);
    }
  }

  @Test
  void threeHundredPipelinedUploadsInOneWriteAreAllStored() throws IOException {
    try (RawConnection raw = server.raw()) {
      StringBuilder burst = new StringBuilder();
      for (int i = 0; i < 300; i++) {
        burst.append("POST /files HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n").append((char) ('a' + i % 26));
      }
      raw.send(burst.toString());
      for (int i = 0; i < 300; i++) {
        RawConnection.Response response = raw.read();
        assertThat(response.status()).as("response %d", i).isEqualTo(201);
        assertThat(response.bodyText()).contains("\"size\":1");
      }
    }
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrder() throws IOException {
    byte[] a = randomBytes(3000, 2);
    byte[] b = randomBytes(10, 3);
    byte[] c = randomBytes(200_000, 4);
    String urlA = server.upload(a, null, null).get("url").asText();
    String urlB = server.upload(b, null, null).get("url").asText();
    String urlC = server.upload(c, null, null).get("url").asText();
    try (RawConnection raw = server.raw()) {
      raw.send(get(urlC) + get("/nonsense") + get(urlA) + "HEAD " + urlB + " HTTP/1.1\r\nHost: x\r\n\r\n"
          + "POST /files HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz" + get(urlB) + get(urlA));

      assertThat(raw.read().body()).isEqualTo(c);
      assertThat(raw.read().status()).isEqualTo(400);
      assertThat(raw.read().body()).isEqualTo(a);
      RawConnection.Response head = raw.read(true);
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("content-length")).isEqualTo("10");
      RawConnection.Response posted = raw.read();
      assertThat(posted.status()).isEqualTo(201);
      assertThat(posted.bodyText()).contains("\"size\":3");
      assertThat(raw.read().body()).isEqualTo(b);
      assertThat(raw.read().body()).isEqualTo(a);
    }
  }

  @Test
  void connectionCloseIsHonoured() throws IOException {
    String url = server.upload(randomBytes(10, 5), null, null).get("url").asText();
    try (RawConnection raw = server.raw()) {
      raw.send("GET " + url + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      RawConnection.Response response = raw.read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.header("connection")).isEqualTo("close");
      assertThat(raw.isClosedByServer()).isTrue();
    }
  }

  @Test
  void http10ClosesUnlessAskedToKeepAlive() throws IOException {
    String url = server.upload(randomBytes(10, 6), null, null).get("url").asText();
    try (RawConnection raw = server.raw()) {
      raw.send("GET " + url + " HTTP/1.0\r\n\r\n");
      assertThat(raw.read().status()).isEqualTo(200);
      assertThat(raw.isClosedByServer()).isTrue();
    }
    try (RawConnection raw = server.raw()) {
      raw.send("GET " + url + " HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      RawConnection.Response first = raw.read();
      assertThat(first.header("connection")).isEqualTo("keep-alive");
      raw.send("GET " + url + " HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      assertThat(raw.read().status()).isEqualTo(200);
    }
  }

  @Test
  void silentConnectionIsClosedAfterTheIdleTimeout() throws IOException {
    try (RawConnection raw = impatient.raw()) {
      assertThat(raw.drainUntilClosed()).isZero();
    }
  }

  @Test
  void idleKeepAliveConnectionIsClosedAfterTheIdleTimeout() throws IOException {
    try (RawConnection raw = impatient.raw()) {
      raw.send(get("/status"));
      assertThat(raw.read().status()).isEqualTo(200);
      assertThat(raw.drainUntilClosed()).isZero();
    }
  }

  @Test
  void tricklingHeadersAreCutOff() throws Exception {
    try (RawConnection raw = impatient.raw()) {
      raw.send("GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: ");
      Thread trickler = trickle(raw, "a");
      assertThat(raw.drainUntilClosed()).isZero();
      trickler.join();
    }
  }

  @Test
  void tricklingBodyGets408AndTheConnectionCloses() throws Exception {
    try (RawConnection raw = impatient.raw()) {
      raw.send("POST /files HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
      Thread trickler = trickle(raw, "b");
      RawConnection.Response response = raw.read();
      assertThat(response.status()).isEqualTo(408);
      assertThat(response.bodyText()).isEqualTo("{\"error\":\"request body not received in time\",\"status\":408}");
      raw.drainUntilClosed();
      trickler.join();
    }
    awaitUploadMemoryReleased(impatient);
  }

  @Test
  void halfOpenUploadIsCutOffAndItsMemoryReleased() throws IOException {
    try (RawConnection raw = impatient.raw()) {
      raw.send("POST /files HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n" + "c".repeat(20_000));
      RawConnection.Response response = raw.read();
      assertThat(response.status()).isEqualTo(408);
      raw.drainUntilClosed();
    }
    awaitUploadMemoryReleased(impatient);
  }

  @Test
  void clientThatStopsReadingItsResponsesIsCutOff() throws IOException {
    int size = 8 << 20;
    String url = impatient.upload(randomBytes(size, 7), null, null).get("url").asText();
    try (RawConnection raw = new RawConnection(impatient.port(), 4096)) {
      raw.send(get(url) + get(url) + get(url));
      await().atMost(Duration.ofSeconds(20)).until(() -> metric(impatient, "wimg_http_connections") <= 1);
      assertThat(raw.drainUntilClosed()).isLessThan(3L * size);
    }
  }

  @Test
  void clientThatReadsSlowlyButSteadilyGetsTheWholeResponse() throws Exception {
    // The server writes a response for longer than its idle timeout, because the client reads it
    // slowly (at most READ_CHUNK per READ_PAUSE) but steadily: it must not be cut off. (Netty
    // raises its first writer-idle event whatever was written meanwhile; closing on that event cut
    // such downloads.) The idle timeout of 4 s lets the reader stall for 2 s (half of it: the
    // server's writer-idle period) before the server may rightly close; the pace is a ceiling, so
    // a loaded machine only makes the download longer, which the test wants anyway.
    Duration idle = Duration.ofSeconds(4);
    int size = 16 << 20; // past the socket buffers, at the ceiling pace: about 8 s, twice the idle timeout
    byte[] data = randomBytes(size, 11);
    try (TestServer slow = TestServer.start(TestServer.config(dir.resolve("slow")).withIdleTimeout(idle));
         RawConnection raw = new RawConnection(slow.port(), READ_CHUNK)) {
      String url = slow.upload(data, null, null).get("url").asText();
      long start = System.nanoTime();
      raw.send(get(url));
      InputStream in = raw.socket.getInputStream();
      ByteArrayOutputStream received = new ByteArrayOutputStream();
      byte[] chunk = new byte[READ_CHUNK];
      int headerEnd = -1;
      while (headerEnd < 0 || received.size() < headerEnd + size) {
        int n = in.read(chunk);
        assertThat(n).as("bytes read before the server closed, of " + size + " + headers: " + received.size())
            .isPositive();
        received.write(chunk, 0, n);
        if (headerEnd < 0) {
          headerEnd = indexOf(received.toByteArray(), "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          headerEnd = headerEnd < 0 ? -1 : headerEnd + 4;
        }
        Thread.sleep(READ_PAUSE);
      }
      Duration took = Duration.ofNanos(System.nanoTime() - start);
      assertThat(took).as("the download outlasted the idle timeout, or it proved nothing").isGreaterThan(idle);
      byte[] all = received.toByteArray();
      assertThat(new String(all, 0, 12, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200");
      assertThat(Arrays.copyOfRange(all, headerEnd, all.length)).isEqualTo(data);
    }
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

  /** Sends one byte every 200 ms until the server closes (at most 30 s). */
  static Thread trickle(RawConnection raw, String oneByte) {
    return Thread.ofVirtual().start(() -> {
      try {
        OutputStream out = raw.socket.getOutputStream();
        for (int i = 0; i < 150; i++) {
          Thread.sleep(200);
          out.write(oneByte.getBytes(StandardCharsets.US_ASCII));
          out.flush();
        }
      } catch (IOException | InterruptedException e) {
        // closed by the server: done
      }
    });
  }

  static void awaitUploadMemoryReleased(TestServer on) {
    await().atMost(Duration.ofSeconds(10)).until(() -> metric(on, "wimg_upload_buffered_bytes") == 0);
  }

  /** The value of an unlabelled gauge from /metrics. */
  static double metric(TestServer on, String name) {
    String text = new String(on.get("/metrics").body(), StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("(?m)^" + name + " (\\S+)$").matcher(text);
    assertThat(m.find()).as(name + " in /metrics").isTrue();
    return Double.parseDouble(m.group(1));
  }
}
