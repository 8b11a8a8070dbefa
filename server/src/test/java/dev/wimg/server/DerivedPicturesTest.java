package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.wimg.imaging.ImageEngines;
import dev.wimg.imaging.Limits;
import dev.wimg.imaging.Presets;
import dev.wimg.imaging.TransformSpec;
import dev.wimg.server.internal.http.ServerTuning;
import dev.wimg.storage.NewFile;
import dev.wimg.storage.Store;
import dev.wimg.storage.StoreConfig;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Derived pictures saved as needles: restarts, deletion of the original, the size cap. */
@ExtendWith(NettyLeakCheck.class)
class DerivedPicturesTest {

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

  private void start(ImagingConfig imaging) throws IOException {
    engine = new GatedEngine();
    server = TestServer.start(TestServer.config(dir).withImaging(imaging), ServerTuning.defaults(), engine);
  }

  private void restart(ImagingConfig imaging) throws IOException {
    server.close();
    server = null;
    start(imaging);
  }

  private JsonNode derived() {
    return TestServer.json(server.get("/status")).get("imaging").get("derived");
  }

  private void awaitDerivedCount(int count) {
    await().until(() -> derived().get("count").asInt() == count);
  }

  private long liveDerivedNeedles() throws IOException {
    try (Store store = Store.open(StoreConfig.defaults(dir.resolve("derived")))) {
      return store.stats().liveNeedles();
    }
  }

  @Test
  void aDerivedPictureSurvivesARestartAndIsServedWithoutComputing() throws IOException {
    start(ImagingConfig.defaults());
    String fid = server.upload(TransformTest.picture("painting.jpg"), null, "painting.jpg").get("fid").asText();
    HttpResponse<byte[]> first = server.get("/" + fid + "?w=100&gray");
    assertThat(first.statusCode()).isEqualTo(200);
    awaitDerivedCount(1);
    assertThat(derived().get("bytes").asLong()).isEqualTo(first.body().length);
    String metrics = new String(server.get("/metrics").body(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(metrics).contains("\nwimg_derived_pictures 1.0\n")
        .contains("\nwimg_derived_used_bytes " + first.body().length + ".0\n");

    restart(ImagingConfig.defaults());
    HttpResponse<byte[]> second = server.get("/" + fid + "?gray=1&w=100");
    assertThat(second.statusCode()).isEqualTo(200);
    assertThat(second.body()).isEqualTo(first.body());
    assertThat(second.headers().firstValue("ETag")).isEqualTo(first.headers().firstValue("ETag"));
    assertThat(second.headers().firstValue("Content-Type")).hasValue("image/jpeg");
    assertThat(engine.calls()).isZero();
    assertThat(derived().get("hits").asLong()).isEqualTo(1);
    assertThat(derived().get("count").asInt()).isEqualTo(1);

    HttpResponse<byte[]> conditional = server.get("/" + fid + "?w=100&gray",
        "If-None-Match", first.headers().firstValue("ETag").orElseThrow());
    assertThat(conditional.statusCode()).isEqualTo(304);
    assertThat(engine.calls()).isZero();
  }

  @Test
  void deletingTheOriginalDeletesItsDerivedPictures() throws IOException {
    start(ImagingConfig.defaults());
    String fid = server.upload(TransformTest.picture("painting.jpg"), null, "painting.jpg").get("fid").asText();
    String other = server.upload(TransformTest.picture("butterflies.png"), null, "b.png").get("fid").asText();
    assertThat(server.get("/" + fid + "?w=100").statusCode()).isEqualTo(200);
    assertThat(server.get("/" + fid + "?w=60&format=png").statusCode()).isEqualTo(200);
    assertThat(server.get("/" + other + "?w=60").statusCode()).isEqualTo(200);
    awaitDerivedCount(3);

    assertThat(server.delete("/" + fid).statusCode()).isEqualTo(204);
    assertThat(derived().get("count").asInt()).isEqualTo(1);
    assertThat(server.get("/" + fid + "?w=100").statusCode()).isEqualTo(404);
    assertThat(server.get("/" + fid + "?w=60&format=png").statusCode()).isEqualTo(404);

    restart(ImagingConfig.defaults());
    assertThat(derived().get("count").asInt()).isEqualTo(1);
    assertThat(server.get("/" + fid + "?w=100").statusCode()).isEqualTo(404);
    assertThat(server.get("/" + other + "?w=60").statusCode()).isEqualTo(200);
    assertThat(engine.calls()).isZero();
    server.close();
    server = null;
    assertThat(liveDerivedNeedles()).isEqualTo(1);
  }

  @Test
  void pastTheCapTheLeastRecentlyUsedDerivedPicturesAreDeleted() throws IOException {
    byte[] painting = TransformTest.picture("painting.jpg");
    long a = outputSize(painting, "w=100");
    long b = outputSize(painting, "w=101");
    long c = outputSize(painting, "w=102");
    long cap = a + Math.max(b, c);
    // room for a and b, or a and c, never all three; no memory cache, so every hit goes to the
    // derived store
    ImagingConfig capped = ImagingConfig.defaults().withCacheBytes(0).withDerivedCapBytes(cap);
    start(capped);
    String fid = server.upload(painting, null, "painting.jpg").get("fid").asText();

    assertThat(server.get("/" + fid + "?w=100").statusCode()).isEqualTo(200);
    awaitDerivedCount(1);
    assertThat(server.get("/" + fid + "?w=101").statusCode()).isEqualTo(200);
    awaitDerivedCount(2);
    assertThat(server.get("/" + fid + "?w=100").statusCode()).isEqualTo(200);  // w=101 is now the oldest
    assertThat(engine.calls()).isEqualTo(2);
    assertThat(server.get("/" + fid + "?w=102").statusCode()).isEqualTo(200);
    await().until(() -> derived().get("bytes").asLong() == a + c && derivedCount() == 2);

    assertThat(server.get("/" + fid + "?w=100").statusCode()).isEqualTo(200);
    assertThat(engine.calls()).as("w=100 was kept").isEqualTo(3);
    assertThat(server.get("/" + fid + "?w=101").statusCode()).isEqualTo(200);
    assertThat(engine.calls()).as("w=101 was evicted").isEqualTo(4);
    assertThat(derived().get("capBytes").asLong()).isEqualTo(cap);
  }

  @Test
  void leastRecentlyUsedOrderSurvivesARestart() throws IOException {
    byte[] painting = TransformTest.picture("painting.jpg");
    long a = outputSize(painting, "w=100");
    long b = outputSize(painting, "w=101");
    long c = outputSize(painting, "w=102");
    ImagingConfig capped = ImagingConfig.defaults().withCacheBytes(0).withDerivedCapBytes(a + Math.max(b, c));
    start(capped);
    String fid = server.upload(painting, null, "painting.jpg").get("fid").asText();
    assertThat(server.get("/" + fid + "?w=100").statusCode()).isEqualTo(200);
    awaitDerivedCount(1);
    assertThat(server.get("/" + fid + "?w=101").statusCode()).isEqualTo(200);
    awaitDerivedCount(2);
    assertThat(server.get("/" + fid + "?w=100").statusCode()).isEqualTo(200);  // w=101 is now the oldest
    assertThat(engine.calls()).isEqualTo(2);

    restart(capped);
    assertThat(server.get("/" + fid + "?w=102").statusCode()).isEqualTo(200);
    await().until(() -> derived().get("bytes").asLong() == a + c && derivedCount() == 2);
    assertThat(server.get("/" + fid + "?w=100").statusCode()).isEqualTo(200);
    assertThat(engine.calls()).as("w=100, used last before the restart, was kept").isEqualTo(1);
    assertThat(server.get("/" + fid + "?w=101").statusCode()).isEqualTo(200);
    assertThat(engine.calls()).as("w=101 was evicted").isEqualTo(2);
  }

  @Test
  void derivedNeedlesThatNoLinkAccountsForAreDeletedOnStart() throws Exception {
    start(ImagingConfig.defaults());
    String fid = server.upload(TransformTest.picture("painting.jpg"), null, "painting.jpg").get("fid").asText();
    HttpResponse<byte[]> kept = server.get("/" + fid + "?w=100");
    assertThat(kept.statusCode()).isEqualTo(200);
    awaitDerivedCount(1);
    HttpResponse<byte[]> torn = server.get("/" + fid + "?w=60&format=png");
    assertThat(torn.statusCode()).isEqualTo(200);
    awaitDerivedCount(2);
    server.close();
    server = null;

    // The state crashes leave: the last ADD torn (cut off on load, so its needle has no link),
    // and a needle written just before a crash, before its ADD.
    Path log = dir.resolve("derived").resolve("derived.log");
    try (FileChannel channel = FileChannel.open(log, StandardOpenOption.WRITE)) {
      channel.truncate(channel.size() - 3);
    }
    try (Store store = Store.open(StoreConfig.defaults(dir.resolve("derived")))) {
      store.write(NewFile.of(null, "image/png", torn.body())).get();
    }
    assertThat(liveDerivedNeedles()).isEqualTo(3);

    start(ImagingConfig.defaults());
    assertThat(derivedCount()).isEqualTo(1);
    assertThat(derived().get("bytes").asLong()).as("the cap counts exactly what is stored").isEqualTo(kept.body().length);
    server.close();
    server = null;
    assertThat(liveDerivedNeedles()).isEqualTo(1);
    assertThat(dir.resolve("derived.rebuild")).doesNotExist();
    assertThat(dir.resolve("derived.ready")).doesNotExist();

    start(ImagingConfig.defaults());
    HttpResponse<byte[]> again = server.get("/" + fid + "?w=100");
    assertThat(again.body()).isEqualTo(kept.body());
    assertThat(engine.calls()).as("the linked picture was kept").isZero();
    assertThat(server.get("/" + fid + "?w=60&format=png").body()).isEqualTo(torn.body());
    assertThat(engine.calls()).as("the orphan was not adopted: computed again").isEqualTo(1);
  }

  @Test
  void anInterruptedRebuildIsDiscardedAndACompleteOneFinishesItsSwap() throws Exception {
    start(ImagingConfig.defaults());
    String fid = server.upload(TransformTest.picture("painting.jpg"), null, "painting.jpg").get("fid").asText();
    HttpResponse<byte[]> kept = server.get("/" + fid + "?w=100");
    awaitDerivedCount(1);
    server.close();
    server = null;
    // a complete rebuild waiting for its swap: a copy of the consistent derived folder; the folder
    // it replaces holds an orphan; next to them, a rebuild interrupted half-way
    Path derivedDir = dir.resolve("derived");
    Path ready = dir.resolve("derived.ready");
    Files.createDirectories(ready);
    try (var files = Files.list(derivedDir)) {
      for (Path file : files.toList()) {
        Files.copy(file, ready.resolve(file.getFileName()));
      }
    }
    try (Store store = Store.open(StoreConfig.defaults(derivedDir))) {
      store.write(NewFile.of(null, "image/jpeg", kept.body())).get();
    }
    Files.createDirectories(dir.resolve("derived.rebuild"));
    Files.write(dir.resolve("derived.rebuild").resolve("1-1.dat"), new byte[] {1, 2, 3});

    start(ImagingConfig.defaults());
    assertThat(dir.resolve("derived.rebuild")).doesNotExist();
    assertThat(ready).doesNotExist();
    assertThat(derivedCount()).isEqualTo(1);
    assertThat(server.get("/" + fid + "?w=100").body()).isEqualTo(kept.body());
    assertThat(engine.calls()).isZero();
    server.close();
    server = null;
    assertThat(liveDerivedNeedles()).as("the orphan went with the folder the swap replaced").isEqualTo(1);
  }

  private int derivedCount() {
    return derived().get("count").asInt();
  }

  private static long outputSize(byte[] picture, String query) {
    Map<String, List<String>> params = new java.util.LinkedHashMap<>();
    for (String pair : query.split("&")) {
      String[] kv = pair.split("=", 2);
      params.put(kv[0], List.of(kv[1]));
    }
    TransformSpec spec = TransformSpec.parse(params, Presets.none(), Limits.defaults());
    return ImageEngines.java(Limits.defaults()).transform(ByteBuffer.wrap(picture), spec, null).data().remaining();
  }
}
