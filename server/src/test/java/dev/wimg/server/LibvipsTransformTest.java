package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.wimg.imaging.ImageEngines;
import dev.wimg.imaging.Limits;
import dev.wimg.testsupport.RequiresLibvips;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server as started in production: the engine is detected. Runs only where libvips loads;
 * elsewhere it is reported as skipped with the install command (failed under {@code CI=true}).
 */
@RequiresLibvips
@ExtendWith(NettyLeakCheck.class)
class LibvipsTransformTest {

  @TempDir
  Path dir;

  private TestServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void statusNamesLibvipsAndAutoFormatGivesWebpToBrowsersThatAcceptIt() throws IOException {
    server = TestServer.start(TestServer.config(dir));
    JsonNode imaging = TestServer.json(server.get("/status")).get("imaging");
    assertThat(imaging.get("engine").asText()).startsWith("libvips 8.");
    assertThat(imaging.get("outputFormats")).extracting(JsonNode::asText).contains("webp");

    String fid = server.upload(TransformTest.picture("painting.jpg"), null, "painting.jpg").get("fid").asText();
    HttpResponse<byte[]> webp = server.get("/" + fid + "?w=100&format=auto", "Accept", "image/avif,image/webp,*/*");
    assertThat(webp.statusCode()).isEqualTo(200);
    assertThat(webp.headers().firstValue("Content-Type")).hasValue("image/webp");
    assertThat(webp.headers().firstValue("Vary")).hasValue("accept");
    var info = ImageEngines.vips(Limits.defaults()).probe(ByteBuffer.wrap(webp.body()));
    assertThat(info.width()).isEqualTo(100);

    HttpResponse<byte[]> jpeg = server.get("/" + fid + "?w=100&format=auto", "Accept", "image/*");
    assertThat(jpeg.headers().firstValue("Content-Type")).hasValue("image/jpeg");
    assertThat(jpeg.headers().firstValue("ETag")).isNotEqualTo(webp.headers().firstValue("ETag"));
  }

  @Test
  void acceptHeadersThatGetTheSameFormatShareOneComputationAndOneEtag() throws IOException {
    server = TestServer.start(TestServer.config(dir));
    String fid = server.upload(TransformTest.picture("painting.jpg"), null, "painting.jpg").get("fid").asText();
    String url = "/" + fid + "?w=100&format=auto";
    HttpResponse<byte[]> webpOnly = server.get(url, "Accept", "image/webp");
    HttpResponse<byte[]> both = server.get(url, "Accept", "image/avif,image/webp");
    assertThat(both.headers().firstValue("Content-Type")).hasValue("image/webp");
    assertThat(both.headers().firstValue("ETag")).isEqualTo(webpOnly.headers().firstValue("ETag"));
    assertThat(both.body()).isEqualTo(webpOnly.body());
    JsonNode imaging = TestServer.json(server.get("/status")).get("imaging");
    assertThat(imaging.get("transforms").asLong()).as("computations").isEqualTo(1);

    // AVIF only where this libvips writes it; else the source's format
    boolean avifWritable = imaging.get("outputFormats").toString().contains("\"avif\"");
    HttpResponse<byte[]> avif = server.get(url, "Accept", "image/avif");
    assertThat(avif.headers().firstValue("Content-Type")).hasValue(avifWritable ? "image/avif" : "image/jpeg");
    assertThat(avif.headers().firstValue("ETag")).isNotEqualTo(webpOnly.headers().firstValue("ETag"));
  }
}
