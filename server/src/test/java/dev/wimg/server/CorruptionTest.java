package dev.wimg.server;

import static dev.wimg.server.TestServer.json;
import static dev.wimg.server.TestServer.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.wimg.server.internal.files.FileReadHandler;
import dev.wimg.server.internal.http.ServerTuning;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

@ExtendWith(NettyLeakCheck.class)
class CorruptionTest {

  @TempDir
  Path dir;

  /** Inline: the needle's pages are resident, the event loop reads it. Pool: the blocking pool does. */
  @ParameterizedTest(name = "reads on the event loop: {0}")
  @ValueSource(booleans = {true, false})
  void needleThatFailsItsChecksumIs500AndItsBytesAreNeverServed(boolean inline) throws IOException {
    ServerTuning tuning = ServerTuning.defaults().withResidentReadsInline(inline);
    byte[] marker = "WIMG-CORRUPTION-TEST-MARKER-7f3a9c".getBytes(StandardCharsets.US_ASCII);
    byte[] victim = new byte[4096];
    System.arraycopy(randomBytes(4096, 1), 0, victim, 0, 4096);
    System.arraycopy(marker, 0, victim, 1000, marker.length);
    byte[] neighbour = randomBytes(4096, 2);
    String victimUrl;
    String neighbourUrl;
    try (TestServer server = TestServer.start(dir)) {
      victimUrl = server.upload(victim, "image/png", "v.png").get("url").asText();
      neighbourUrl = server.upload(neighbour, "image/png", "n.png").get("url").asText();
    }
    Path volume = flipByteOf(marker, 5);

    ListAppender<ILoggingEvent> logged = capture();
    try (TestServer server = TestServer.start(TestServer.config(dir), tuning)) {
      HttpResponse<byte[]> get = server.get(victimUrl);

      assertThat(get.statusCode()).isEqualTo(500);
      assertThat(get.headers().firstValue("Content-Type")).hasValue("application/json");
      assertThat(json(get).get("error").asText()).isEqualTo("stored data failed its checksum");
      assertThat(json(get).get("status").asInt()).isEqualTo(500);
      assertThat(new String(get.body(), StandardCharsets.ISO_8859_1)).doesNotContain("CORRUPTION-TEST");
      assertThat(server.head(victimUrl).statusCode()).isEqualTo(500);
      assertThat(server.get(victimUrl, "Range", "bytes=0-10").statusCode()).isEqualTo(500);
      assertThat(server.get(neighbourUrl).body()).isEqualTo(neighbour);
      // three failed reads of one needle: one damaged needle
      assertThat(json(server.get("/status")).get("volumes").get(0).get("damagedNeedles").asLong())
          .isEqualTo(1);
      assertThat(new String(server.get("/metrics").body(), StandardCharsets.UTF_8))
          .contains("\nwimg_store_damaged_needles 1.0\n");
    } finally {
      detach(logged);
    }
    List<String> errors = logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertThat(errors).isNotEmpty();
    assertThat(errors.getFirst()).startsWith("refusing to serve " + victimUrl.substring(1) + ": needle in volume 1 at offset ");
    assertThat(volume.getFileName().toString()).isEqualTo("1-1.dat");
  }

  /** Flips one byte inside the only occurrence of {@code marker} in the data folder's volumes. */
  private Path flipByteOf(byte[] marker, int index) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".dat")).toList()) {
        byte[] content = Files.readAllBytes(file);
        int at = indexOf(content, marker);
        if (at >= 0) {
          assertThat(indexOf(content, marker, at + 1)).as("marker occurs once").isNegative();
          try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {(byte) (content[at + index] ^ 0x01)}), at + index);
          }
          return file;
        }
      }
    }
    throw new AssertionError("marker not found in any volume under " + dir);
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    return indexOf(haystack, needle, 0);
  }

  /** Where {@code needle} first occurs in {@code haystack} at or after {@code from}, or -1. */
  static int indexOf(byte[] haystack, byte[] needle, int from) {
    outer:
    for (int i = from; i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static ListAppender<ILoggingEvent> capture() {
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    ((Logger) LoggerFactory.getLogger(FileReadHandler.class)).addAppender(appender);
    return appender;
  }

  private static void detach(ListAppender<ILoggingEvent> appender) {
    ((Logger) LoggerFactory.getLogger(FileReadHandler.class)).detachAppender(appender);
  }
}
