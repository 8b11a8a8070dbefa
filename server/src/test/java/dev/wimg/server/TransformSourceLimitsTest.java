package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.wimg.imaging.ImageEngine;
import dev.wimg.imaging.ImageEngines;
import dev.wimg.imaging.Limits;
import dev.wimg.server.internal.http.ServerTuning;
import dev.wimg.testsupport.Requirement;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The max-source-pixels limit through the server, on both engines: a picture whose header claims
 * more pixels than {@link ImagingConfig#maxSourcePixels()} is refused with 422 naming its size and
 * the limit, while its bytes still download untouched. The libvips runs are skipped, with the
 * install command, where libvips is missing (and fail under {@code CI=true}).
 */
@ExtendWith(NettyLeakCheck.class)
class TransformSourceLimitsTest {

  @TempDir
  Path dir;

  private TestServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private void start(String engineName, ImagingConfig imaging) throws IOException {
    ServerConfig config = TestServer.config(dir).withImaging(imaging);
    server = TestServer.start(config, ServerTuning.defaults(), engine(engineName, imaging.limits()));
  }

  private static ImageEngine engine(String name, Limits limits) {
    if (name.equals("java")) {
      return ImageEngines.java(limits);
    }
    Requirement.LIBVIPS.require();
    return ImageEngines.vips(limits);
  }

  private static JsonNode errorBody(String message, int status) {
    return TestServer.JSON.createObjectNode().put("error", message).put("status", status);
  }

  @ParameterizedTest
  @ValueSource(strings = {"java", "libvips"})
  void aPngBombOverTheDefault50MegapixelsIs422NamingItsSizeAndTheLimit(String engineName) throws IOException {
    start(engineName, ImagingConfig.defaults());
    byte[] bomb = pngBomb(40_000, 40_000);
    assertThat(bomb.length).as("bomb size on disk, bytes").isLessThan(300_000);
    String fid = server.upload(bomb, "image/png", "bomb.png").get("fid").asText();

    HttpResponse<byte[]> refused = server.get("/" + fid + "?w=100");
    assertThat(refused.statusCode()).isEqualTo(422);
    assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(TestServer.json(refused)).isEqualTo(errorBody(
        "source is 40000x40000 = 1600000000 pixels, over the limit of 50000000 pixels", 422));
    assertThat(server.get("/" + fid).body()).as("the file itself downloads untouched").isEqualTo(bomb);
    JsonNode derived = TestServer.json(server.get("/status")).get("imaging").get("derived");
    assertThat(derived.get("count").asInt()).as("nothing saved for a refusal").isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"java", "libvips"})
  void theConfiguredSourceLimitIsExactOnARealPhoto(String engineName) throws IOException {
    // painting.jpg is 640x427 = 273280 pixels: one pixel over a limit of 273279
    start(engineName, ImagingConfig.defaults().withMaxSourcePixels(273_279));
    String fid = server.upload(TransformTest.picture("painting.jpg"), null, "painting.jpg").get("fid").asText();
    HttpResponse<byte[]> refused = server.get("/" + fid + "?w=100");
    assertThat(refused.statusCode()).isEqualTo(422);
    assertThat(TestServer.json(refused)).isEqualTo(errorBody(
        "source is 640x427 = 273280 pixels, over the limit of 273279 pixels", 422));
    server.close();

    start(engineName, ImagingConfig.defaults().withMaxSourcePixels(273_280));
    assertThat(server.get("/" + fid + "?w=100").statusCode()).as("exactly at the limit").isEqualTo(200);
  }

  /**
   * A valid PNG claiming {@code width×height} 1-bit grey pixels, all black, in a few hundred KB:
   * a decompression bomb. Rows are deflated as they are made, so building it holds one row.
   */
  static byte[] pngBomb(int width, int height) {
    ByteArrayOutputStream idat = new ByteArrayOutputStream();
    try (DeflaterOutputStream z = new DeflaterOutputStream(idat, new Deflater(Deflater.BEST_COMPRESSION), 1 << 16)) {
      byte[] row = new byte[1 + (width + 7) / 8];
      for (int y = 0; y < height; y++) {
        z.write(row);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    png.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
    // width, height, bit depth 1, colour type 0 (grey), deflate, adaptive filters, no interlace
    chunk(png, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 1).put(new byte[4]).array());
    chunk(png, "IDAT", idat.toByteArray());
    chunk(png, "IEND", new byte[0]);
    return png.toByteArray();
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
    CRC32 crc = new CRC32();
    crc.update(typeBytes);
    crc.update(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
    out.writeBytes(typeBytes);
    out.writeBytes(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }
}
