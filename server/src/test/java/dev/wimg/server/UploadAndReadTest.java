package dev.wimg.server;

import static dev.wimg.server.TestServer.json;
import static dev.wimg.server.TestServer.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(NettyLeakCheck.class)
class UploadAndReadTest {

  @TempDir
  static Path dir;
  static TestServer server;

  @BeforeAll
  static void start() throws IOException {
    server = TestServer.start(dir);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void rawUploadAnswers201WithFidUrlSizeMimeAndEtag() {
    byte[] data = randomBytes(3000, 1);
    HttpResponse<byte[]> response = server.postRaw(data, "image/png", "cat.png");

    assertThat(response.statusCode()).isEqualTo(201);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonNode body = json(response);
    assertThat(body.properties()).extracting(e -> e.getKey()).containsExactly("fid", "url", "size", "mime", "etag");
    String fid = body.get("fid").asText();
    assertThat(fid).matches("[A-Za-z0-9,_-]+");
    assertThat(body.get("url").asText()).isEqualTo("/" + fid);
    assertThat(body.get("size").asLong()).isEqualTo(3000);
    assertThat(body.get("mime").asText()).isEqualTo("image/png");
    assertThat(body.get("etag").asText()).matches("\"[0-9a-f]+\"");
    assertThat(response.headers().firstValue("Location")).hasValue("/" + fid);
  }

  @Test
  void getReturnsTheBytesWithTypeLengthValidatorsAndImmutableCaching() {
    byte[] data = randomBytes(5000, 2);
    long before = System.currentTimeMillis() / 1000 * 1000;
    JsonNode up = server.upload(data, "image/png", "cat.png");

    HttpResponse<byte[]> get = server.get(up.get("url").asText());

    assertThat(get.statusCode()).isEqualTo(200);
    assertThat(get.body()).isEqualTo(data);
    assertThat(get.headers().firstValue("Content-Type")).hasValue("image/png");
    assertThat(get.headers().firstValue("Content-Length")).hasValue("5000");
    assertThat(get.headers().firstValue("ETag")).hasValue(up.get("etag").asText());
    assertThat(get.headers().firstValue("Cache-Control")).hasValue("public, max-age=31536000, immutable");
    assertThat(get.headers().firstValue("Accept-Ranges")).hasValue("bytes");
    assertThat(get.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
    assertThat(get.headers().firstValue("Content-Disposition"))
        .hasValue("inline; filename=\"cat.png\"; filename*=UTF-8''cat.png");
    long lastModified = ZonedDateTime.parse(get.headers().firstValue("Last-Modified").orElseThrow(),
        DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
    assertThat(lastModified).isBetween(before, System.currentTimeMillis());
    assertThat(get.headers().firstValue("Server")).hasValue("wimg");
    assertThat(get.headers().firstValue("Date")).isPresent();
  }

  @Test
  void fidWithAnyNameSegmentServesTheSameFileAndTheNameGuessesTheType() {
    byte[] data = randomBytes(100, 3);
    JsonNode up = server.upload(data, null, null);
    assertThat(up.get("mime").asText()).isEqualTo("application/octet-stream");

    HttpResponse<byte[]> named = server.get(up.get("url").asText() + "/holiday%20photo.jpg");

    assertThat(named.statusCode()).isEqualTo(200);
    assertThat(named.body()).isEqualTo(data);
    assertThat(named.headers().firstValue("Content-Type")).hasValue("image/jpeg");
    assertThat(named.headers().firstValue("Content-Disposition"))
        .hasValue("inline; filename=\"holiday photo.jpg\"; filename*=UTF-8''holiday%20photo.jpg");
    HttpResponse<byte[]> bare = server.get(up.get("url").asText());
    assertThat(bare.headers().firstValue("Content-Type")).hasValue("application/octet-stream");
    // application/octet-stream is not on the inline allow-list: saved, never shown as this origin
    assertThat(bare.headers().firstValue("Content-Disposition")).hasValue("attachment");
  }

  @Test
  void storedNameGuessesTheTypeWhenNoneWasSent() {
    JsonNode up = server.upload(randomBytes(10, 4), null, "notes.txt");
    assertThat(up.get("mime").asText()).isEqualTo("text/plain; charset=utf-8");
    assertThat(server.get(up.get("url").asText()).headers().firstValue("Content-Type"))
        .hasValue("text/plain; charset=utf-8");
  }

  @Test
  void formUrlencodedDefaultOfCurlIsNotKeptAsTheFilesType() {
    JsonNode up = server.upload(randomBytes(10, 5), "application/x-www-form-urlencoded", "a.webp");
    assertThat(server.get(up.get("url").asText()).headers().firstValue("Content-Type")).hasValue("image/webp");
  }

  @Test
  void nonAsciiNamesAreKeptAndEncodedInContentDisposition() {
    JsonNode up = server.upload(randomBytes(10, 6), "image/jpeg", "été \"1\".jpg");
    HttpResponse<byte[]> get = server.get(up.get("url").asText());
    assertThat(get.headers().firstValue("Content-Disposition"))
        .hasValue("inline; filename=\"_t_ _1_.jpg\"; filename*=UTF-8''%C3%A9t%C3%A9%20%221%22.jpg");
  }

  @Test
  void pathSeparatorsInANameNeverReachTheFilename() {
    String url = server.upload(randomBytes(10, 7), "image/jpeg", null).get("url").asText();
    assertThat(server.get(url + "/..%2F..%2Fetc%5Cx.jpg").headers().firstValue("Content-Disposition"))
        .hasValue("inline; filename=\".._.._etc_x.jpg\"; filename*=UTF-8''..%2F..%2Fetc%5Cx.jpg");
  }

  @Test
  void emptyFileIsAValidFile() {
    JsonNode up = server.upload(new byte[0], "text/plain", "empty.txt");
    assertThat(up.get("size").asLong()).isZero();

    HttpResponse<byte[]> get = server.get(up.get("url").asText());

    assertThat(get.statusCode()).isEqualTo(200);
    assertThat(get.body()).isEmpty();
    assertThat(get.headers().firstValue("Content-Length")).hasValue("0");
    assertThat(get.headers().firstValue("Content-Type")).hasValue("text/plain");
  }

  @Test
  void headAnswersTheHeadersOfGetWithoutABody() throws IOException {
    byte[] data = randomBytes(777, 7);
    JsonNode up = server.upload(data, "image/gif", null);
    String url = up.get("url").asText();

    HttpResponse<byte[]> head = server.head(url);

    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
    assertThat(head.headers().firstValue("Content-Length")).hasValue("777");
    assertThat(head.headers().firstValue("Content-Type")).hasValue("image/gif");
    assertThat(head.headers().firstValue("ETag")).hasValue(up.get("etag").asText());
    // On one connection: if HEAD leaked a body, the GET's status line would not come next.
    try (RawConnection raw = server.raw()) {
      raw.send("HEAD " + url + " HTTP/1.1\r\nHost: x\r\n\r\nGET " + url + " HTTP/1.1\r\nHost: x\r\n\r\n");
      RawConnection.Response first = raw.read(true);
      RawConnection.Response second = raw.read();
      assertThat(first.status()).isEqualTo(200);
      assertThat(first.header("content-length")).isEqualTo("777");
      assertThat(second.status()).isEqualTo(200);
      assertThat(second.body()).isEqualTo(data);
    }
  }

  @Test
  void multipartWithOneFilePartAnswersOneObjectKeepingFilenameAndPartType() {
    byte[] data = randomBytes(2048, 8);
    Multipart form = new Multipart().file("file", "sunset.jpg", "image/jpeg", data);

    HttpResponse<byte[]> response = server.send(form.post(server.request("/files")));

    assertThat(response.statusCode()).as(new String(response.body())).isEqualTo(201);
    JsonNode body = json(response);
    assertThat(body.isObject()).isTrue();
    assertThat(body.get("size").asLong()).isEqualTo(2048);
    assertThat(body.get("mime").asText()).isEqualTo("image/jpeg");
    HttpResponse<byte[]> get = server.get(body.get("url").asText());
    assertThat(get.body()).isEqualTo(data);
    assertThat(get.headers().firstValue("Content-Type")).hasValue("image/jpeg");
    assertThat(get.headers().firstValue("Content-Disposition").orElseThrow()).contains("sunset.jpg");
  }

  @Test
  void multipartWithSeveralFilePartsAnswersAnArrayInPartOrder() {
    byte[] a = randomBytes(1000, 9);
    byte[] b = randomBytes(0, 10);
    byte[] c = randomBytes(70_000, 11);
    Multipart form = new Multipart()
        .field("comment", "ignored")
        .file("file", "a.png", "image/png", a)
        .file("file", "b.txt", "text/plain", b)
        .file("file", "c.bin", "application/octet-stream", c);

    HttpResponse<byte[]> response = server.send(form.post(server.request("/files")));

    assertThat(response.statusCode()).as(new String(response.body())).isEqualTo(201);
    JsonNode body = json(response);
    assertThat(body.isArray()).isTrue();
    assertThat(body).hasSize(3);
    assertThat(body.get(0).get("mime").asText()).isEqualTo("image/png");
    assertThat(body.get(1).get("size").asLong()).isZero();
    assertThat(body.get(2).get("size").asLong()).isEqualTo(70_000);
    assertThat(server.get(body.get(0).get("url").asText()).body()).isEqualTo(a);
    assertThat(server.get(body.get(1).get("url").asText()).body()).isEqualTo(b);
    assertThat(server.get(body.get(2).get("url").asText()).body()).isEqualTo(c);
    assertThat(server.get(body.get(1).get("url").asText()).headers().firstValue("Content-Type"))
        .hasValue("text/plain");
  }

  @Test
  void multipartWithoutAFilePartIs400() {
    HttpResponse<byte[]> response = server.send(new Multipart().field("comment", "x").post(server.request("/files")));
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(json(response).get("error").asText()).isEqualTo("multipart body has no file part named \"file\"");
  }

  @Test
  void multipartFilePartUnderAnotherNameIs400() {
    HttpResponse<byte[]> response = server.send(
        new Multipart().file("upload", "a.png", "image/png", new byte[3]).post(server.request("/files")));
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(json(response).get("error").asText())
        .isEqualTo("multipart file parts must be named \"file\", got \"upload\"");
  }

  @Test
  void multipartWithoutBoundaryIs400() {
    HttpResponse<byte[]> response = server.postRaw(new byte[10], "multipart/form-data", null);
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(json(response).get("error").asText()).startsWith("malformed multipart");
  }

  @Test
  void multiMegabyteRawAndMultipartUploadsReadBackByteIdentical() {
    byte[] raw = randomBytes(5 << 20, 12);
    JsonNode up = server.upload(raw, "application/zip", "big.zip");
    assertThat(server.get(up.get("url").asText()).body()).isEqualTo(raw);

    byte[] part = randomBytes(3 << 20, 13);
    HttpResponse<byte[]> multi = server.send(new Multipart().file("file", "big.bin", null, part).post(server.request("/files")));
    assertThat(multi.statusCode()).isEqualTo(201);
    assertThat(server.get(json(multi).get("url").asText()).body()).isEqualTo(part);
  }

  @Test
  void chunkedUploadWithoutContentLengthIsStored() {
    byte[] data = randomBytes(300_000, 14);
    HttpRequest.Builder post = server.request("/files?name=streamed.bin")
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(data)));

    HttpResponse<byte[]> response = server.send(post);

    assertThat(response.statusCode()).isEqualTo(201);
    assertThat(server.get(json(response).get("url").asText()).body()).isEqualTo(data);
  }

  @Test
  void fileNameLongerThan255BytesIs400() {
    HttpResponse<byte[]> response = server.postRaw(new byte[1], null, "x".repeat(256));
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(json(response).get("error").asText()).isEqualTo("file name must be at most 255 UTF-8 bytes");
  }

  @Test
  void activeContentIsSandboxed() {
    JsonNode up = server.upload("<script>alert(1)</script>".getBytes(StandardCharsets.UTF_8), "text/html", null);
    HttpResponse<byte[]> get = server.get(up.get("url").asText());
    assertThat(get.headers().firstValue("Content-Security-Policy")).hasValue("sandbox");
    for (String type : new String[] {"image/svg+xml", "application/xhtml+xml", "text/xml", "text/xsl"}) {
      JsonNode other = server.upload("<x/>".getBytes(StandardCharsets.UTF_8), type, null);
      assertThat(server.get(other.get("url").asText()).headers().firstValue("Content-Security-Policy"))
          .as(type).hasValue("sandbox");
    }
  }

  /** A multipart/form-data body built by hand. */
  static final class Multipart {
    private final String boundary = "----wimg-test-boundary-7d3f";
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();

    Multipart field(String name, String value) {
      write("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n");
      return this;
    }

    Multipart file(String name, String filename, String type, byte[] data) {
      write("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + filename + "\"\r\n");
      if (type != null) {
        write("Content-Type: " + type + "\r\n");
      }
      write("\r\n");
      body.writeBytes(data);
      write("\r\n");
      return this;
    }

    HttpRequest.Builder post(HttpRequest.Builder request) {
      write("--" + boundary + "--\r\n");
      return request.header("Content-Type", "multipart/form-data; boundary=" + boundary)
          .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()));
    }

    private void write(String text) {
      body.writeBytes(text.getBytes(StandardCharsets.UTF_8));
    }
  }
}
