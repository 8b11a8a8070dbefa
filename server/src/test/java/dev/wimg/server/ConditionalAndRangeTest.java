package dev.wimg.server;

import static dev.wimg.server.TestServer.json;
import static dev.wimg.server.TestServer.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(NettyLeakCheck.class)
class ConditionalAndRangeTest {

  @TempDir
  static Path dir;
  static TestServer server;
  static byte[] data;
  static String url;
  static String etag;
  static String lastModified;

  @BeforeAll
  static void start() throws IOException {
    server = TestServer.start(dir);
    data = randomBytes(1000, 42);
    JsonNode up = server.upload(data, "image/jpeg", "p.jpg");
    url = up.get("url").asText();
    etag = up.get("etag").asText();
    lastModified = server.get(url).headers().firstValue("Last-Modified").orElseThrow();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void ifNoneMatchWithTheEtagIs304WithValidatorsAndNoBody() {
    HttpResponse<byte[]> response = server.get(url, "If-None-Match", etag);
    assertThat(response.statusCode()).isEqualTo(304);
    assertThat(response.body()).isEmpty();
    assertThat(response.headers().firstValue("ETag")).hasValue(etag);
    assertThat(response.headers().firstValue("Cache-Control")).hasValue("public, max-age=31536000, immutable");
  }

  @Test
  void ifNoneMatchComparesWeaklyAndAcceptsListsAndStar() {
    assertThat(server.get(url, "If-None-Match", "W/" + etag).statusCode()).isEqualTo(304);
    assertThat(server.get(url, "If-None-Match", "\"abc\", " + etag + ", \"d,e\"").statusCode()).isEqualTo(304);
    assertThat(server.get(url, "If-None-Match", "*").statusCode()).isEqualTo(304);
  }

  @Test
  void ifNoneMatchWithOtherTagsServesTheFile() {
    HttpResponse<byte[]> response = server.get(url, "If-None-Match", "\"00000000\", W/\"1\"");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo(data);
  }

  @Test
  void ifModifiedSinceAtOrAfterLastModifiedIs304() {
    assertThat(server.get(url, "If-Modified-Since", lastModified).statusCode()).isEqualTo(304);
    String earlier = DateTimeFormatter.RFC_1123_DATE_TIME.format(
        ZonedDateTime.parse(lastModified, DateTimeFormatter.RFC_1123_DATE_TIME).minusSeconds(1)
            .withZoneSameInstant(ZoneOffset.UTC));
    assertThat(server.get(url, "If-Modified-Since", earlier).statusCode()).isEqualTo(200);
  }

  @Test
  void ifNoneMatchTakesPrecedenceOverIfModifiedSince() {
    HttpResponse<byte[]> response = server.get(url, "If-None-Match", "\"other\"", "If-Modified-Since", lastModified);
    assertThat(response.statusCode()).isEqualTo(200);
  }

  @Test
  void closedRangeIs206WithContentRange() {
    HttpResponse<byte[]> response = server.get(url, "Range", "bytes=2-5");
    assertThat(response.statusCode()).isEqualTo(206);
    assertThat(response.headers().firstValue("Content-Range")).hasValue("bytes 2-5/1000");
    assertThat(response.headers().firstValue("Content-Length")).hasValue("4");
    assertThat(response.headers().firstValue("Content-Type")).hasValue("image/jpeg");
    assertThat(response.body()).isEqualTo(Arrays.copyOfRange(data, 2, 6));
  }

  @Test
  void openRangeRunsToTheEnd() {
    HttpResponse<byte[]> response = server.get(url, "Range", "bytes=990-");
    assertThat(response.statusCode()).isEqualTo(206);
    assertThat(response.headers().firstValue("Content-Range")).hasValue("bytes 990-999/1000");
    assertThat(response.body()).isEqualTo(Arrays.copyOfRange(data, 990, 1000));
  }

  @Test
  void suffixRangeServesTheLastBytes() {
    HttpResponse<byte[]> response = server.get(url, "Range", "bytes=-3");
    assertThat(response.statusCode()).isEqualTo(206);
    assertThat(response.headers().firstValue("Content-Range")).hasValue("bytes 997-999/1000");
    assertThat(response.body()).isEqualTo(Arrays.copyOfRange(data, 997, 1000));
  }

  @Test
  void rangePastTheEndIsClampedAndLongSuffixIsTheWholeFile() {
    HttpResponse<byte[]> clamped = server.get(url, "Range", "bytes=500-999999999999999999999");
    assertThat(clamped.statusCode()).isEqualTo(206);
    assertThat(clamped.headers().firstValue("Content-Range")).hasValue("bytes 500-999/1000");
    HttpResponse<byte[]> suffix = server.get(url, "Range", "bytes=-5000");
    assertThat(suffix.headers().firstValue("Content-Range")).hasValue("bytes 0-999/1000");
    assertThat(suffix.body()).isEqualTo(data);
  }

  @Test
  void rangeStartingAtOrPastTheEndIs416WithTheSize() {
    HttpResponse<byte[]> response = server.get(url, "Range", "bytes=1000-");
    assertThat(response.statusCode()).isEqualTo(416);
    assertThat(response.headers().firstValue("Content-Range")).hasValue("bytes */1000");
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(json(response).get("error").asText()).isEqualTo("range not satisfiable: the file has 1000 bytes");
    assertThat(json(response).get("status").asInt()).isEqualTo(416);
    assertThat(server.get(url, "Range", "bytes=-0").statusCode()).isEqualTo(416);
  }

  @Test
  void anyRangeOfAnEmptyFileIs416() {
    String empty = server.upload(new byte[0], null, null).get("url").asText();
    HttpResponse<byte[]> response = server.get(empty, "Range", "bytes=0-");
    assertThat(response.statusCode()).isEqualTo(416);
    assertThat(response.headers().firstValue("Content-Range")).hasValue("bytes */0");
  }

  @Test
  void severalRangesServeTheWholeFile() {
    HttpResponse<byte[]> response = server.get(url, "Range", "bytes=0-1,5-6");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo(data);
  }

  @Test
  void malformedRangesAreIgnored() {
    for (String range : new String[] {"bytes=5-2", "items=0-1", "bytes=a-b", "bytes=", "bytes 0-1"}) {
      HttpResponse<byte[]> response = server.get(url, "Range", range);
      assertThat(response.statusCode()).as(range).isEqualTo(200);
      assertThat(response.body()).as(range).isEqualTo(data);
    }
  }

  @Test
  void ifRangeWithTheEtagOrDateHonoursTheRangeAndOtherwiseServesTheWholeFile() {
    assertThat(server.get(url, "Range", "bytes=0-0", "If-Range", etag).statusCode()).isEqualTo(206);
    assertThat(server.get(url, "Range", "bytes=0-0", "If-Range", lastModified).statusCode()).isEqualTo(206);
    HttpResponse<byte[]> stale = server.get(url, "Range", "bytes=0-0", "If-Range", "\"other\"");
    assertThat(stale.statusCode()).isEqualTo(200);
    assertThat(stale.body()).isEqualTo(data);
  }

  @Test
  void headIgnoresRange() {
    HttpResponse<byte[]> response = server.send(server.request(url).header("Range", "bytes=0-0")
        .method("HEAD", java.net.http.HttpRequest.BodyPublishers.noBody()));
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Length")).hasValue("1000");
  }
}
