package dev.wimg.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.client.UploadResult;
import dev.wimg.client.WimgClient;
import dev.wimg.client.WimgException;
import dev.wimg.testsupport.RandomFiles;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java client's calls beyond upload and download, against a real server (a child process that
 * signs transform URLs): {@code url} builds signed transform URLs the server accepts, {@code open}
 * reads a large file at any position, {@code upload(InputStream, ...)} streams, and the async
 * variants complete (or fail) their futures.
 */
class ClientApiTest {

  private static final String SIGN_KEY = "a signing key of more than 16 bytes";

  @TempDir
  static Path dir;

  private static ChildServer server;
  private static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    server = ChildServer.start(dir, dir.resolve("server.log"), "--data", dir.resolve("data").toString(),
        "--sign-key", SIGN_KEY);
  }

  @AfterAll
  static void stop() {
    server.close();
    http.close();
  }

  @Test
  void urlSignsTransformsAsTheServerChecksThem() throws Exception {
    BufferedImage picture = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
    picture.setRGB(10, 10, 0xff0000);
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ImageIO.write(picture, "png", png);
    try (WimgClient signing = WimgClient.builder(server.url()).signKey(SIGN_KEY).build();
         WimgClient unsigned = WimgClient.create(server.url())) {
      String fid = signing.upload(png.toByteArray(), "red dot.png", "image/png").fid();
      for (URI url : new URI[] {signing.url(fid, "w=32&format=webp"), signing.url(fid, "red dot.png", "h=12&w=16")}) {
        HttpResponse<byte[]> got = get(url);
        assertThat(got.statusCode()).as("%s: %s", url, new String(got.body())).isEqualTo(200);
        assertThat(url.getQuery()).contains("sig=");
      }
      assertThat(get(unsigned.url(fid, "w=32")).statusCode()).as("no signature").isEqualTo(403);
      assertThat(get(WimgClient.builder(server.url()).signKey("another key, also long enough").build()
          .url(fid, "w=32")).statusCode()).as("another key's signature").isEqualTo(403);
      // the file itself needs no signature
      assertThat(get(signing.url(fid, null)).body()).isEqualTo(png.toByteArray());
    }
  }

  @Test
  void openReadsALargeFileAtAnyPosition() throws Exception {
    Path file = dir.resolve("large.bin");
    RandomFiles.write(file, 20L << 20, 3);
    try (WimgClient client = WimgClient.create(server.url());
         FileChannel local = FileChannel.open(file)) {
      UploadResult stored = client.upload(file);
      try (SeekableByteChannel remote = client.open(stored.fid())) {
        assertThat(remote.size()).isEqualTo(20L << 20);
        // across the first chunk boundary (8 MiB), at the start, near the end, then past it
        for (long at : new long[] {(8L << 20) - 100, 0, (20L << 20) - 10, (12L << 20) + 7}) {
          ByteBuffer want = ByteBuffer.allocate(4096);
          local.read(want, at);
          want.flip();
          ByteBuffer got = ByteBuffer.allocate(4096);
          remote.position(at);
          while (got.hasRemaining() && remote.read(got) > 0) {
            // until full or the end
          }
          got.flip();
          assertThat(got).as("at %d", at).isEqualTo(want);
        }
        remote.position(20L << 20);
        assertThat(remote.read(ByteBuffer.allocate(10))).isEqualTo(-1);
      }
      assertThatThrownBy(() -> client.open("1-1,ffffffff00000001"))
          .isInstanceOfSatisfying(WimgException.class, e -> assertThat(e.status()).isEqualTo(404));
    }
  }

  @Test
  void aStreamGoesUpOnceAndTheAsyncCallsCompleteTheirFutures() throws Exception {
    Path file = dir.resolve("stream.bin");
    String sha = RandomFiles.write(file, 12L << 20, 5);
    try (WimgClient client = WimgClient.create(server.url())) {
      UploadResult stored;
      try (InputStream in = Files.newInputStream(file)) {
        stored = client.upload(in, Files.size(file), "stream.bin", null);
      }
      assertThat(stored.size()).isEqualTo(12L << 20);
      Path copy = dir.resolve("copy.bin");
      CompletableFuture<Long> down = client.downloadAsync(stored.fid(), copy, null);
      assertThat(down.get(60, TimeUnit.SECONDS)).isEqualTo(12L << 20);
      assertThat(RandomFiles.digest(Files.newInputStream(copy)).sha256()).isEqualTo(sha);

      UploadResult again = client.uploadAsync(file).get(60, TimeUnit.SECONDS);
      assertThat(client.downloadAsync(again.fid()).get(60, TimeUnit.SECONDS)).hasSize(12 << 20);
      assertThat(client.deleteAsync(again.fid()).get(60, TimeUnit.SECONDS)).isTrue();
      assertThatThrownBy(() -> client.downloadAsync(again.fid()).get(60, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class).cause().isInstanceOf(WimgException.class);

      // a stream shorter than the size said fails, and stores nothing under a fid
      try (InputStream in = Files.newInputStream(file)) {
        assertThatThrownBy(() -> client.upload(in, (12L << 20) + 1, "short.bin", null))
            .isInstanceOf(java.io.IOException.class);
      }
    }
  }

  private HttpResponse<byte[]> get(URI url) throws Exception {
    return http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(60)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }
}
