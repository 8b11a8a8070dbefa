package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.epoll.Epoll;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server runs on native epoll on Linux, and on NIO when native transports are off: the
 * module's second surefire run sets {@code -Dio.netty.transport.noNative=true} and repeats the
 * connection and upload tests on NIO.
 */
@ExtendWith(NettyLeakCheck.class)
class TransportTest {

  @TempDir
  Path dir;

  @Test
  void usesEpollOnLinuxAndNioWhenNativeTransportsAreDisabled() throws IOException {
    boolean linux = System.getProperty("os.name").toLowerCase().contains("linux");
    boolean noNative = Boolean.getBoolean("io.netty.transport.noNative");
    if (linux && !noNative) {
      assertThat(Epoll.unavailabilityCause()).isNull();
    }
    try (TestServer server = TestServer.start(dir)) {
      assertThat(server.server.transport()).isEqualTo(linux && !noNative ? "epoll" : "nio");
      assertThat(TestServer.json(server.get("/status")).get("engine").get("transport").asText())
          .isEqualTo(server.server.transport());
    }
  }
}
