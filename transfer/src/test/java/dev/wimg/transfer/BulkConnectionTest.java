package dev.wimg.transfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * {@link BulkConnection} against a raw socket that answers one request and then closes the
 * connection, as a server does at its idle timeout: the next request on the kept-alive connection
 * fails as stale (safe to send again), while a first request that gets no answer fails plainly.
 */
class BulkConnectionTest {

  @Test
  void aKeptAliveConnectionTheServerClosedIsStaleAFreshOneIsNot() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
      Thread serve = Thread.ofPlatform().daemon().start(() -> {
        try {
          // first connection: one answer, then closed (the idle timeout)
          try (Socket s = server.accept()) {
            readHead(s.getInputStream());
            OutputStream out = s.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
          }
          // second connection: closed without an answer
          try (Socket s = server.accept()) {
            readHead(s.getInputStream());
          }
        } catch (IOException e) {
          // the test fails on its side
        }
      });
      URI origin = URI.create("http://127.0.0.1:" + server.getLocalPort());
      try (BulkConnection c = BulkConnection.open(origin, Duration.ofSeconds(5), Duration.ofSeconds(5))) {
        BulkConnection.Response first = c.exchange("GET", "/a", new String[0], null, 0, 0, null);
        assertThat(first.status).isEqualTo(200);
        assertThat(first.text()).isEqualTo("ok");
        assertThat(c.reusable()).isTrue();
        Thread.sleep(100); // the server has closed it by now
        assertThatThrownBy(() -> c.exchange("GET", "/b", new String[0], null, 0, 0, null))
            .isInstanceOf(BulkConnection.StaleConnectionException.class);
      }
      try (BulkConnection c = BulkConnection.open(origin, Duration.ofSeconds(5), Duration.ofSeconds(5))) {
        assertThatThrownBy(() -> c.exchange("GET", "/c", new String[0], null, 0, 0, null))
            .isInstanceOf(EOFException.class);
      }
      serve.join(5000);
    }
  }

  private static void readHead(InputStream in) throws IOException {
    int matched = 0;
    for (int b; matched < 4 && (b = in.read()) >= 0; ) {
      matched = (b == '\r' || b == '\n') && (matched % 2 == 0) == (b == '\r') ? matched + 1 : (b == '\r' ? 1 : 0);
    }
  }
}
