package dev.wimg.server;

import static dev.wimg.server.RequestHeadRulesTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each way a multipart upload body can be wrong gets its own accurate message. */
@ExtendWith(NettyLeakCheck.class)
class MultipartErrorsTest {

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

  static RawConnection.Response upload(String body) throws IOException {
    try (RawConnection raw = server.raw()) {
      raw.send("POST /files HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
          + "Content-Length: " + body.length() + "\r\n\r\n" + body);
      return raw.read();
    }
  }

  static RawConnection.Response upload(String contentType, String body) throws IOException {
    try (RawConnection raw = server.raw()) {
      raw.send("POST /files HTTP/1.1\r\nHost: x\r\nContent-Type: " + contentType + "\r\n"
          + "Content-Length: " + body.length() + "\r\n\r\n" + body);
      return raw.read();
    }
  }

  static String filePart(String filename) {
    return "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename + "\"\r\n"
        + "Content-Type: text/plain\r\n\r\nabc\r\n";
  }

  @Test
  void moreThan128PartsIs400SayingSo() throws IOException {
    StringBuilder body = new StringBuilder();
    for (int i = 0; i < 130; i++) {
      body.append("--b\r\nContent-Disposition: form-data; name=\"f").append(i).append("\"\r\n\r\nx\r\n");
    }
    body.append(filePart("a.txt")).append("--b--\r\n");
    assertError(upload(body.toString()), 400, "multipart body has more than 128 parts");
  }

  @Test
  void filePartWithoutFilenameIs400SayingSo() throws IOException {
    assertError(upload("--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc\r\n--b--\r\n"), 400,
        "multipart part \"file\" has no filename");
  }

  @Test
  void bodyWithoutClosingDelimiterIs400SayingSo() throws IOException {
    assertError(upload(filePart("a.txt")), 400,
        "multipart body ends inside a part: its closing delimiter is missing");
  }

  @Test
  void partHeadersWithoutBlankLineAre400SayingSo() throws IOException {
    assertError(upload("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nabc\r\n--b--\r\n"),
        400, "multipart body has no complete part: part headers must end with a blank line");
  }

  @Test
  void wellFormedBodyStillStoresTheFile() throws IOException {
    RawConnection.Response response = upload(filePart("a.txt") + "--b--\r\n");
    assertThat(response.status()).isEqualTo(201);
  }

  @ParameterizedTest
  @ValueSource(strings = {"multipart/form-data; boundary=", "multipart/form-data; boundary=;",
      "multipart/form-data; boundary=\"", "multipart/form-data; boundary=\"\"", "multipart/form-data;boundary",
      "multipart/form-data; charset=x; boundary="})
  void anEmptyBoundaryIs400SayingSo(String contentType) throws IOException {
    RawConnection.Response response = upload(contentType, "x");
    assertThat(response.status()).isEqualTo(400);
    assertThat(new String(response.body(), StandardCharsets.UTF_8)).contains("malformed multipart/form-data request");
  }

  @Test
  void aBoundaryOfIllegalCharactersOrOver70Is400() throws IOException {
    assertError(upload("multipart/form-data; boundary=a\\b", "x"), 400,
        "malformed multipart/form-data request: the boundary must be 1 to 70 letters, digits or '()+_,-./:=? (RFC 2046)");
    assertError(upload("multipart/form-data; boundary=" + "b".repeat(71), "x"), 400,
        "malformed multipart/form-data request: the boundary must be 1 to 70 letters, digits or '()+_,-./:=? (RFC 2046)");
  }

  @Test
  void mediaTypeAndParameterNamesAreCaseInsensitiveAndQuotedBoundariesWork() throws IOException {
    String body = filePart("a.txt") + "--b--\r\n";
    assertThat(upload("MULTIPART/Form-Data; BOUNDARY=b", body).status()).isEqualTo(201);
    assertThat(upload("multipart/form-data; charset=utf-8; boundary=\"b\"", body).status()).isEqualTo(201);
    String spaced = "--a b=c\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.txt\"\r\n\r\nabc\r\n--a b=c--\r\n";
    assertThat(upload("multipart/form-data; boundary=\"a b=c\"", spaced).status()).isEqualTo(201);
  }
}
