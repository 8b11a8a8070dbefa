package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.wimg.server.internal.http.ServerTuning;
import dev.wimg.server.internal.transform.TransformQuery;
import dev.wimg.server.internal.transform.UrlSigner;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A transform URL seen before is answered from memory without parsing its query again. */
@ExtendWith(NettyLeakCheck.class)
class TransformUrlCacheTest {

  private static final String KEY = "url-cache-key-0123456789";

  @TempDir
  Path dir;

  private final GatedEngine engine = new GatedEngine();
  private TestServer server;
  private String fid;

  private void start(ImagingConfig imaging) throws IOException {
    server = TestServer.start(TestServer.config(dir).withImaging(imaging), ServerTuning.defaults(), engine);
    fid = server.upload(TransformTest.picture("painting.jpg"), null, "painting.jpg").get("fid").asText();
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private JsonNode cache() {
    return TestServer.json(server.get("/status")).get("imaging").get("cache");
  }

  private static String error(HttpResponse<byte[]> response) {
    return TestServer.json(response).get("error").asText();
  }

  @Test
  void aRepeatedUrlIsAnsweredFromMemoryWithoutParsingItsQuery() throws IOException {
    start(ImagingConfig.defaults());
    String url = "/" + fid + "?w=100&format=png";
    HttpResponse<byte[]> first = server.get(url);
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(cache().get("parses").asLong()).isEqualTo(1);
    assertThat(cache().get("urls").asLong()).isEqualTo(1);

    HttpResponse<byte[]> second = server.get(url);
    assertThat(second.statusCode()).isEqualTo(200);
    assertThat(second.body()).isEqualTo(first.body());
    assertThat(second.headers().firstValue("ETag")).isEqualTo(first.headers().firstValue("ETag"));
    assertThat(second.headers().firstValue("Content-Type")).hasValue("image/png");
    assertThat(second.headers().firstValue("Vary")).isEmpty();
    JsonNode cache = cache();
    assertThat(cache.get("parses").asLong()).isEqualTo(1);
    assertThat(cache.get("urlHits").asLong()).isEqualTo(1);
    assertThat(engine.calls()).isEqualTo(1);

    HttpResponse<byte[]> revalidated = server.get(url, "If-None-Match", first.headers().firstValue("ETag").orElseThrow());
    assertThat(revalidated.statusCode()).isEqualTo(304);
    assertThat(revalidated.headers().firstValue("ETag")).isEqualTo(first.headers().firstValue("ETag"));
    assertThat(cache().get("parses").asLong()).isEqualTo(1);
    assertThat(cache().get("urlHits").asLong()).isEqualTo(2);

    // the same transform spelled differently is another URL: parsed once, same result
    HttpResponse<byte[]> reordered = server.get("/" + fid + "?format=png&w=100");
    assertThat(reordered.body()).isEqualTo(first.body());
    assertThat(cache().get("parses").asLong()).isEqualTo(2);
    assertThat(engine.calls()).isEqualTo(1);
  }

  @Test
  void aRememberedAutoFormatUrlStillVariesWithAccept() throws IOException {
    start(ImagingConfig.defaults());
    String url = "/" + fid + "?w=100&format=auto";
    HttpResponse<byte[]> first = server.get(url, "Accept", "image/png");
    HttpResponse<byte[]> second = server.get(url, "Accept", "image/png");
    assertThat(second.statusCode()).isEqualTo(200);
    assertThat(second.body()).isEqualTo(first.body());
    assertThat(second.headers().firstValue("Vary")).hasValue("accept");
    assertThat(cache().get("urlHits").asLong()).isEqualTo(1);
    assertThat(cache().get("parses").asLong()).isEqualTo(1);
  }

  @Test
  void aDeletedOriginalIsNotServedFromARememberedUrl() throws IOException {
    start(ImagingConfig.defaults());
    String url = "/" + fid + "?w=100";
    assertThat(server.get(url).statusCode()).isEqualTo(200);
    assertThat(server.delete("/" + fid).statusCode()).isEqualTo(204);
    HttpResponse<byte[]> gone = server.get(url);
    assertThat(gone.statusCode()).isEqualTo(404);
    assertThat(cache().get("urlHits").asLong()).isZero();
  }

  @Test
  void aTamperedSignatureIsRefusedAfterTheGoodOneWasRemembered() throws IOException {
    start(ImagingConfig.defaults().withSigningKeys(List.of(KEY)));
    String path = "/" + fid;
    String sig = UrlSigner.sign(KEY, UrlSigner.message(path, TransformQuery.parse("w=100")));
    assertThat(server.get(path + "?w=100&sig=" + sig).statusCode()).isEqualTo(200);
    assertThat(server.get(path + "?w=100&sig=" + sig).statusCode()).isEqualTo(200);
    assertThat(cache().get("urlHits").asLong()).isEqualTo(1);

    String tamperedSig = sig.substring(0, sig.length() - 1) + (sig.endsWith("0") ? "1" : "0");
    HttpResponse<byte[]> tampered = server.get(path + "?w=100&sig=" + tamperedSig);
    assertThat(tampered.statusCode()).isEqualTo(403);
    assertThat(error(tampered)).isEqualTo("sig does not match this URL");
    HttpResponse<byte[]> unsigned = server.get(path + "?w=100");
    assertThat(unsigned.statusCode()).isEqualTo(403);
    assertThat(error(unsigned)).isEqualTo("transforms need a signed URL on this server: sig is missing");
    HttpResponse<byte[]> otherWidth = server.get(path + "?w=101&sig=" + sig);
    assertThat(otherWidth.statusCode()).isEqualTo(403);
    assertThat(cache().get("urlHits").asLong()).isEqualTo(1);
  }

  @Test
  void presetsOnlyStillRefusesAFreeQueryAfterAPresetWasRemembered() throws IOException {
    start(ImagingConfig.defaults().withPresets(Map.of("thumb", "w=20&h=20&mode=fill"), true));
    assertThat(server.get("/" + fid + "?p=thumb").statusCode()).isEqualTo(200);
    assertThat(server.get("/" + fid + "?p=thumb").statusCode()).isEqualTo(200);
    assertThat(cache().get("urlHits").asLong()).isEqualTo(1);
    HttpResponse<byte[]> free = server.get("/" + fid + "?w=300");
    assertThat(free.statusCode()).isEqualTo(400);
    assertThat(error(free)).isEqualTo("only presets are allowed (p=one of [thumb]), got w");
  }
}
