package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** What a request head must hold to be served: transfer codings, Host, query and Content-Type. */
@ExtendWith(NettyLeakCheck.class)
class RequestHeadRulesTest {

  @TempDir
  static Path dir;
  static TestServer server;

  @BeforeAll
  static void start() throws IOException {
    server = TestServer.start(TestServer.config(dir));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** Sends {@code request} on a new connection and reads the one response. */
  static RawConnection.Response exchange(String request) throws IOException {
    return exchangeOn(server, request);
  }

  /** Sends {@code request} to {@code target} on a new connection and reads the one response. */
  static RawConnection.Response exchangeOn(TestServer target, String request) throws IOException {
    try (RawConnection raw = target.raw()) {
      raw.send(request);
      return raw.read();
    }
  }

  static void assertError(RawConnection.Response response, int status, String message) {
    assertThat(response.status()).isEqualTo(status);
    assertThat(response.header("content-type")).isEqualTo("application/json");
    JsonNode body;
    try {
      body = TestServer.JSON.readTree(response.body());
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + response.bodyText(), e);
    }
    assertThat(body.get("error").asText()).isEqualTo(message);
    assertThat(body.get("status").asInt()).isEqualTo(status);
  }

  static long needles() {
    return TestServer.json(server.get("/status")).get("needles").asLong();
  }

  @Test
  void gzipTransferCodingBeforeChunkedIs501AndNothingIsStored() throws IOException {
    long before = needles();
    assertError(exchange("POST /files HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        + "3\r\nabc\r\n0\r\n\r\n"), 501, "transfer coding gzip is not supported");
    assertThat(needles()).isEqualTo(before);
  }

  @Test
  void gzipTransferCodingAloneIs501() throws IOException {
    assertError(exchange("POST /files HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc"), 501,
        "transfer coding gzip is not supported");
  }

  @Test
  void chunkedWithParametersOrCaseStillWorks() throws IOException {
    RawConnection.Response response = exchange("POST /files HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n"
        + "3\r\nabc\r\n0\r\n\r\n");
    assertThat(response.status()).isEqualTo(201);
  }

  @Test
  void uploadWithAnUnknownQueryParameterIs400NamingIt() {
    ErrorResponsesTest.assertJsonError(server.send(server.request("/files?nmae=x")
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString("abc"))), 400,
        "unknown query parameter nmae; an upload takes only name");
  }

  @Test
  void uploadWithNameGivenTwiceIs400() {
    ErrorResponsesTest.assertJsonError(server.send(server.request("/files?name=a&name=b")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("abc"))), 400, "name given twice");
  }

  @Test
  void uploadWithNameAndAnEmptyQueryPairIsStoredUnderThatName() {
    java.net.http.HttpResponse<byte[]> response = server.send(server.request("/files?name=a.txt&")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("abc")));
    assertThat(response.statusCode()).isEqualTo(201);
    assertThat(TestServer.json(response).get("mime").asText()).startsWith("text/plain");
  }

  @Test
  void http11RequestWithoutHostIs400() throws IOException {
    assertError(exchange("GET /status HTTP/1.1\r\n\r\n"), 400,
        "an HTTP/1.1 request must have exactly one Host header");
  }

  @Test
  void requestWithTwoHostHeadersIs400() throws IOException {
    assertError(exchange("GET /status HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400,
        "an HTTP/1.1 request must have exactly one Host header");
  }

  @Test
  void requestWithTwoAuthorizationHeadersIs400() throws IOException {
    assertError(exchange("GET /status HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n"),
        400, "a request must have at most one Authorization header");
  }

  @Test
  void http2RequestLineIs505() throws IOException {
    assertError(exchange("GET /status HTTP/2.0\r\nHost: a\r\n\r\n"), 505,
        "HTTP version HTTP/2.0 is not supported; this server speaks HTTP/1.1");
  }

  @Test
  void http10RequestWithoutHostIsServed() throws IOException {
    assertThat(exchange("GET /status HTTP/1.0\r\n\r\n").status()).isEqualTo(200);
  }

  static final String NOT_A_MEDIA_TYPE = "Content-Type must be a media type type/subtype (RFC 9110)";

  @Test
  void rawUploadWithANonAsciiContentTypeIs400() throws IOException {
    byte[] head = "POST /files HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Type: text/"
        .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    byte[] tail = "\r\n\r\nabc".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    java.io.ByteArrayOutputStream request = new java.io.ByteArrayOutputStream();
    request.writeBytes(head);
    request.writeBytes(new byte[] {(byte) 0xc3, (byte) 0xa9, (byte) 0xff});
    request.writeBytes(tail);
    try (RawConnection raw = server.raw()) {
      raw.send(request.toByteArray());
      assertError(raw.read(), 400, NOT_A_MEDIA_TYPE);
    }
  }

  @Test
  void rawUploadWithAContentTypeWithoutSubtypeIs400() throws IOException {
    for (String type : new String[] {"banana", "text/", "/plain", "text/plain garbage", "te xt/plain"}) {
      assertError(exchange("POST /files HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Type: " + type
          + "\r\n\r\nabc"), 400, NOT_A_MEDIA_TYPE);
    }
  }

  @Test
  void rawUploadWithParametersInTheContentTypeKeepsThem() {
    assertThat(server.upload("abc".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
        "text/plain; charset=utf-8", null).get("mime").asText()).isEqualTo("text/plain; charset=utf-8");
  }

  @Test
  void multipartPartWithAMalformedContentTypeIs400() throws IOException {
    String body = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
        + "Content-Type: banana\r\n\r\nabc\r\n--b--\r\n";
    assertError(exchange("POST /files HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        + "Content-Length: " + body.length() + "\r\n\r\n" + body), 400, NOT_A_MEDIA_TYPE);
  }
}
