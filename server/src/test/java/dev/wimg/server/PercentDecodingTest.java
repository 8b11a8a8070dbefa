package dev.wimg.server;

import static dev.wimg.server.TestServer.JSON;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * How request targets are percent-decoded, over real sockets: the query as form data ({@code +} is
 * a space), the name segment of a file path as a path ({@code +} is a plus), and escapes that are
 * truncated, not hex, or not UTF-8 answer 400 with the JSON error body rather than being guessed
 * at. These pin what Netty's lenient {@code QueryStringDecoder} would change (it turns bad UTF-8
 * into U+FFFD and has no public path mode).
 */
@ExtendWith(NettyLeakCheck.class)
class PercentDecodingTest {

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
  void uploadNameIsFormDecodedPlusIsASpaceAndSemicolonIsLiteral() throws IOException {
    RawConnection.Response r = postRaw("/files?name=caf%C3%A9+au+lait;x%3D1%2B2.jpg");
    assertThat(r.status()).as(body(r)).isEqualTo(201);
    String url = JSON.readTree(r.body()).get("url").asText();
    assertThat(server.get(url).headers().firstValue("Content-Disposition"))
        .hasValue("inline; filename=\"caf_ au lait;x=1+2.jpg\"; "
            + "filename*=UTF-8''caf%C3%A9%20au%20lait%3Bx%3D1+2.jpg");
  }

  @Test
  void plusInTheNameSegmentOfAFilePathIsAPlus() {
    JsonNode up = server.upload(new byte[] {1, 2, 3}, null, null);
    assertThat(server.get(up.get("url").asText() + "/a+b%20c.jpg").headers().firstValue("Content-Disposition"))
        .hasValue("inline; filename=\"a+b c.jpg\"; filename*=UTF-8''a+b%20c.jpg");
  }

  @Test
  void badEscapesInTheQueryAnswer400WithTheJsonBody() throws IOException {
    for (String query : List.of("name=%FF.jpg", "name=%C3", "name=a%2", "name=a%zz", "na%ZZme=a")) {
      RawConnection.Response r = postRaw("/files?" + query);
      assertThat(r.status()).as(query + " " + body(r)).isEqualTo(400);
      JsonNode error = JSON.readTree(r.body());
      assertThat(error.get("status").asInt()).as(query).isEqualTo(400);
      assertThat(error.get("error").asText()).as(query).containsAnyOf("percent escape", "not valid UTF-8");
    }
  }

  @Test
  void badEscapesInANameSegmentOrATransformAnswer400() throws IOException {
    JsonNode up = server.upload(new byte[] {1, 2, 3}, null, null);
    String url = up.get("url").asText();
    for (String target : List.of(url + "/%FF.jpg", url + "/a%2", url + "?w=%C3", url + "?w%zz=1")) {
      RawConnection.Response r = get(target);
      assertThat(r.status()).as(target + " " + body(r)).isEqualTo(400);
      assertThat(JSON.readTree(r.body()).get("status").asInt()).as(target).isEqualTo(400);
    }
  }

  private static RawConnection.Response postRaw(String target) throws IOException {
    try (RawConnection raw = server.raw()) {
      return raw.send("POST " + target + " HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc").read();
    }
  }

  private static RawConnection.Response get(String target) throws IOException {
    try (RawConnection raw = server.raw()) {
      return raw.send("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n").read();
    }
  }

  private static String body(RawConnection.Response r) {
    return new String(r.body(), StandardCharsets.UTF_8);
  }
}
