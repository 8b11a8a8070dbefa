package dev.wimg.client;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Small HTTP servers on loopback ports that give exactly the answer a test is about (a {@code 503},
 * a proxy's page, a redirect loop): real sockets, the JDK's {@link HttpServer}. Close it after each
 * test.
 */
final class StandIns implements AutoCloseable {

  /** Answers one exchange; the exchange is closed after it. */
  interface Handler {
    void handle(HttpExchange exchange) throws IOException;
  }

  private final List<HttpServer> servers = new CopyOnWriteArrayList<>();

  /** Starts a stand-in that answers every request with {@code handler}; its base URL. */
  URI start(Handler handler) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", ex -> {
      try (ex) {
        handler.handle(ex);
      }
    });
    server.start();
    servers.add(server);
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  /** Stops the stand-in at {@code base}: from then on, connecting to it is refused. */
  void stop(URI base) {
    servers.removeIf(s -> {
      boolean it = s.getAddress().getPort() == base.getPort();
      if (it) {
        s.stop(0);
      }
      return it;
    });
  }

  /** Stops every stand-in started. */
  @Override
  public void close() {
    servers.forEach(s -> s.stop(0));
    servers.clear();
  }

  /**
   * Reads the request body, then answers {@code status} with {@code body}.
   *
   * @param contentType the answer's Content-Type, or null for none
   */
  static void reply(HttpExchange ex, int status, String contentType, String body) throws IOException {
    ex.getRequestBody().readAllBytes();
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    if (contentType != null) {
      ex.getResponseHeaders().set("Content-Type", contentType);
    }
    ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      ex.getResponseBody().write(bytes);
    }
  }

  /** A loopback port nothing listens on (bound, then released). */
  static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
