package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.imaging.ImageEngine;
import dev.wimg.server.internal.http.ServerTuning;
import dev.wimg.storage.FsyncPolicy;
import dev.wimg.storage.StoreConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

/** A real {@link WimgServer} on an ephemeral loopback port, with an HTTP/1.1 client for it. */
final class TestServer implements AutoCloseable {

  static final ObjectMapper JSON = new ObjectMapper();

  final WimgServer server;
  final ServerConfig config;
  final HttpClient http;

  private TestServer(WimgServer server, ServerConfig config) {
    this.server = server;
    this.config = config;
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();
  }

  /** Loopback, port 0, fsync never (tests are about HTTP), 10 s idle timeout. */
  static ServerConfig config(Path dir) {
    StoreConfig store = StoreConfig.defaults(dir).withFsyncPolicy(FsyncPolicy.NEVER).withPreallocateBytes(1 << 20);
    return ServerConfig.defaults(store).withPort(0).withIdleTimeout(Duration.ofSeconds(10));
  }

  static TestServer start(Path dir) throws IOException {
    return start(config(dir));
  }

  static TestServer start(ServerConfig config) throws IOException {
    return new TestServer(WimgServer.start(config), config);
  }

  static TestServer start(ServerConfig config, ServerTuning tuning) throws IOException {
    return new TestServer(WimgServer.start(config, tuning), config);
  }

  static TestServer start(ServerConfig config, ServerTuning tuning, ImageEngine engine) throws IOException {
    return new TestServer(WimgServer.start(config, tuning, engine), config);
  }

  /** A standalone server whose answers to distribution piece requests are held to {@code pieces}. */
  static TestServer start(ServerConfig config, NodeConfig.Distribution pieces) throws IOException {
    return new TestServer(WimgServer.start(config, ServerTuning.defaults(), null,
        dev.wimg.server.internal.http.Membership.standalone(), null, null, null, pieces), config);
  }

  int port() {
    return server.port();
  }

  URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + server.port() + pathAndQuery);
  }

  HttpRequest.Builder request(String pathAndQuery) {
    return HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(30));
  }

  HttpResponse<byte[]> send(HttpRequest.Builder request) {
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** GET with header name/value pairs. */
  HttpResponse<byte[]> get(String path, String... headers) {
    HttpRequest.Builder b = request(path).GET();
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return send(b);
  }

  HttpResponse<byte[]> head(String path) {
    return send(request(path).method("HEAD", HttpRequest.BodyPublishers.noBody()));
  }

  HttpResponse<byte[]> delete(String path, String... headers) {
    HttpRequest.Builder b = request(path).DELETE();
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return send(b);
  }

  /** POST /files with a raw body; contentType and name may be null. */
  HttpResponse<byte[]> postRaw(byte[] body, String contentType, String name, String... headers) {
    String path = name == null ? "/files" : "/files?name=" + URLEncoder.encode(name, StandardCharsets.UTF_8);
    HttpRequest.Builder b = request(path).POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return send(b);
  }

  /** Uploads a raw body and returns the 201's JSON. */
  JsonNode upload(byte[] body, String contentType, String name) {
    HttpResponse<byte[]> response = postRaw(body, contentType, name);
    assertThat(response.statusCode()).as(new String(response.body())).isEqualTo(201);
    return json(response);
  }

  RawConnection raw() throws IOException {
    return new RawConnection(server.port());
  }

  static JsonNode json(HttpResponse<byte[]> response) {
    try {
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] randomBytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Override
  public void close() {
    server.close();
    http.close();
  }
}
