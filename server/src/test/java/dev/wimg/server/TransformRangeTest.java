package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.wimg.server.internal.http.ServerTuning;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Range requests on transform URLs, answered from each place a derived picture comes from: a new
 * computation, the memory cache, the derived store (also after a restart).
 */
@ExtendWith(NettyLeakCheck.class)
class TransformRangeTest {

  private static final String QUERY = "?w=100";

  @TempDir
  Path dir;

  private GatedEngine engine = new GatedEngine();
  private TestServer server;

  @AfterEach
  void stop() {
    engine.open();
    if (server != null) {
      server.close();
    }
  }

  private String start(ImagingConfig imaging) throws IOException {
    engine = new GatedEngine();
    server = TestServer.start(TestServer.config(dir).withImaging(imaging), ServerTuning.defaults(), engine);
    return server.upload(TransformTest.picture("painting.jpg"), null, "painting.jpg").get("fid").asText();
  }

  private JsonNode imaging() {
    return TestServer.json(server.get("/status")).get("imaging");
  }

  private static void assertPartial(HttpResponse<byte[]> response, byte[] full, int first, int last) {
    assertThat(response.statusCode()).isEqualTo(206);
    assertThat(response.headers().firstValue("Content-Range"))
        .hasValue("bytes " + first + "-" + last + "/" + full.length);
    assertThat(response.headers().firstValue("Accept-Ranges")).hasValue("bytes");
    assertThat(response.headers().firstValueAsLong("Content-Length")).hasValue(last - first + 1);
    assertThat(response.body()).isEqualTo(Arrays.copyOfRange(full, first, last + 1));
  }

  @Test
  void freshlyComputedTransformsHonourRangeIfRangeAnd416LikeFiles() throws IOException {
    // nothing kept in memory or on disk: every answer below is a new computation
    String fid = start(ImagingConfig.defaults().withCacheBytes(0).withDerivedCapBytes(0));
    String url = "/" + fid + QUERY;
    HttpResponse<byte[]> whole = server.get(url);
    assertThat(whole.statusCode()).isEqualTo(200);
    assertThat(whole.headers().firstValue("Accept-Ranges")).hasValue("bytes");
    byte[] full = whole.body();
    int size = full.length;
    String etag = whole.headers().firstValue("ETag").orElseThrow();

    HttpResponse<byte[]> head = server.get(url, "Range", "bytes=0-9");
    assertPartial(head, full, 0, 9);
    assertThat(head.headers().firstValue("ETag")).hasValue(etag);
    assertThat(head.headers().firstValue("Content-Type")).hasValue("image/jpeg");
    assertPartial(server.get(url, "Range", "bytes=-5"), full, size - 5, size - 1);
    assertPartial(server.get(url, "Range", "bytes=100-"), full, 100, size - 1);
    assertPartial(server.get(url, "Range", "bytes=10-" + (size * 2)), full, 10, size - 1);
    assertPartial(server.get(url, "Range", "bytes=3-3", "If-Range", etag), full, 3, 3);

    HttpResponse<byte[]> beyond = server.get(url, "Range", "bytes=" + size + "-");
    assertThat(beyond.statusCode()).isEqualTo(416);
    assertThat(beyond.headers().firstValue("Content-Range")).hasValue("bytes */" + size);
    assertThat(TestServer.json(beyond)).isEqualTo(TestServer.JSON.createObjectNode()
        .put("error", "range not satisfiable: the picture has " + size + " bytes").put("status", 416));
    assertThat(beyond.headers().firstValue("Vary")).as("a URL without format=auto").isEmpty();

    // the whole picture: another ETag, a weak one, a date (no Last-Modified here), several
    // ranges, another unit, and HEAD
    for (String[] headers : new String[][] {
        {"Range", "bytes=0-9", "If-Range", "\"00000000-1\""},
        {"Range", "bytes=0-9", "If-Range", "W/" + etag},
        {"Range", "bytes=0-9", "If-Range", "Tue, 01 Jan 2030 00:00:00 GMT"},
        {"Range", "bytes=0-1,5-6"},
        {"Range", "items=0-9"}}) {
      HttpResponse<byte[]> response = server.get(url, headers);
      assertThat(response.statusCode()).as(String.join(" ", headers)).isEqualTo(200);
      assertThat(response.headers().firstValue("Content-Range")).isEmpty();
      assertThat(response.body()).isEqualTo(full);
    }
    HttpResponse<byte[]> headRequest = server.send(server.request(url).header("Range", "bytes=0-9")
        .method("HEAD", java.net.http.HttpRequest.BodyPublishers.noBody()));
    assertThat(headRequest.statusCode()).isEqualTo(200);
    assertThat(headRequest.headers().firstValueAsLong("Content-Length")).hasValue(size);
    assertThat(engine.calls()).as("every answer was computed").isEqualTo(13);

    HttpResponse<byte[]> autoBeyond = server.get(url + "&format=auto", "Range", "bytes=99999999-");
    assertThat(autoBeyond.statusCode()).isEqualTo(416);
    assertThat(autoBeyond.headers().firstValue("Vary")).as("format=auto answers vary with Accept").hasValue("accept");
  }

  @Test
  void rangesOfAResultInMemoryAreCutFromIt() throws IOException {
    String fid = start(ImagingConfig.defaults().withDerivedCapBytes(0));
    String url = "/" + fid + QUERY;
    byte[] full = server.get(url).body();

    assertPartial(server.get(url, "Range", "bytes=20-29"), full, 20, 29);
    // the same URL under another spelling is parsed, then found in memory by its key
    assertPartial(server.get("/" + fid + "?w=0100", "Range", "bytes=-7"), full, full.length - 7, full.length - 1);
    assertThat(engine.calls()).isEqualTo(1);
    JsonNode cache = imaging().get("cache");
    assertThat(cache.get("urlHits").asLong()).as("answered by the remembered URL").isEqualTo(1);
    assertThat(cache.get("hits").asLong()).isEqualTo(2);
  }

  @Test
  void rangesOfASavedDerivedPictureAreCutFromItAlsoAfterARestart() throws IOException {
    ImagingConfig diskOnly = ImagingConfig.defaults().withCacheBytes(0);
    String fid = start(diskOnly);
    String url = "/" + fid + QUERY;
    byte[] full = server.get(url).body();
    await().until(() -> imaging().get("derived").get("count").asInt() == 1);

    assertPartial(server.get(url, "Range", "bytes=0-0"), full, 0, 0);
    assertThat(imaging().get("derived").get("hits").asLong()).isEqualTo(1);

    server.close();
    engine = new GatedEngine();
    server = TestServer.start(TestServer.config(dir).withImaging(diskOnly), ServerTuning.defaults(), engine);
    String etag = server.get(url, "Range", "bytes=1-2").headers().firstValue("ETag").orElseThrow();
    assertPartial(server.get(url, "Range", "bytes=50-", "If-Range", etag), full, 50, full.length - 1);
    HttpResponse<byte[]> beyond = server.get(url, "Range", "bytes=" + full.length + "-");
    assertThat(beyond.statusCode()).isEqualTo(416);
    assertThat(beyond.headers().firstValue("Content-Range")).hasValue("bytes */" + full.length);
    assertThat(engine.calls()).isZero();
    assertThat(imaging().get("derived").get("hits").asLong()).isEqualTo(3);
  }
}
