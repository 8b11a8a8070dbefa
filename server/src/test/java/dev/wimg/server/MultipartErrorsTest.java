package dev.wimg.server;

import static dev.wimg.server.RequestHeadRulesTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

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
}
