package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Only types a browser shows without running anything are served inline; every other stored
 * type is sandboxed and sent as an attachment (an allow-list: PDF, JavaScript and
 * multipart/x-mixed-replace were served inline before, with no sandbox).
 */
@ExtendWith(NettyLeakCheck.class)
class InlineTypesTest {

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

  @ParameterizedTest
  @ValueSource(strings = {"application/pdf", "text/javascript", "application/javascript",
      "multipart/x-mixed-replace; boundary=x", "text/html", "image/svg+xml", "text/css",
      "application/octet-stream", "application/x-shockwave-flash", "IMAGE/SVG+XML"})
  void activeOrUnknownTypesAreSandboxedAttachments(String type) {
    JsonNode up = server.upload("<x/>".getBytes(StandardCharsets.UTF_8), type, "file.bin");
    HttpResponse<byte[]> get = server.get(up.get("url").asText());
    assertThat(get.statusCode()).isEqualTo(200);
    assertThat(get.headers().firstValue("Content-Security-Policy")).as(type).hasValue("sandbox");
    assertThat(get.headers().firstValue("Content-Disposition")).as(type)
        .hasValue("attachment; filename=\"file.bin\"; filename*=UTF-8''file.bin");
  }

  @Test
  void activeTypeWithoutANameIsStillAnAttachment() {
    JsonNode up = server.upload("%PDF-1.7".getBytes(StandardCharsets.US_ASCII), "application/pdf", null);
    HttpResponse<byte[]> get = server.get(up.get("url").asText());
    assertThat(get.headers().firstValue("Content-Disposition")).hasValue("attachment");
    assertThat(get.headers().firstValue("Content-Security-Policy")).hasValue("sandbox");
  }

  @ParameterizedTest
  @ValueSource(strings = {"image/jpeg", "image/png", "image/webp", "image/avif", "video/mp4",
      "audio/mpeg", "text/plain; charset=utf-8"})
  void picturesMediaAndPlainTextStayInline(String type) {
    JsonNode up = server.upload(new byte[] {1, 2, 3}, type, "file.bin");
    HttpResponse<byte[]> get = server.get(up.get("url").asText());
    assertThat(get.headers().firstValue("Content-Security-Policy")).as(type).isEmpty();
    assertThat(get.headers().firstValue("Content-Disposition")).as(type)
        .hasValue("inline; filename=\"file.bin\"; filename*=UTF-8''file.bin");
  }
}
