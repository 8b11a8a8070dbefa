package dev.wimg.server;

import static dev.wimg.server.TestServer.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(NettyLeakCheck.class)
class ShutdownTest {

  @TempDir
  Path dir;

  @Test
  void closeStopsAcceptingReleasesAwaitTerminationAndIsIdempotent() throws Exception {
    TestServer server = TestServer.start(dir);
    int port = server.port();
    CountDownLatch returned = new CountDownLatch(1);
    Thread waiter = Thread.ofPlatform().start(() -> {
      try {
        server.server.awaitTermination();
        returned.countDown();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    try (RawConnection open = server.raw()) {
      server.close();
      assertThat(open.isClosedByServer()).isTrue();
    }
    assertThat(returned.await(10, TimeUnit.SECONDS)).isTrue();
    waiter.join();
    server.server.close();
    assertThatThrownBy(() -> {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
      }
    }).isInstanceOf(ConnectException.class);
  }

  @Test
  void connectionArrivingAsTheServerClosesIsClosedToo() throws IOException {
    for (int i = 0; i < 10; i++) {
      TestServer server = TestServer.start(TestServer.config(dir.resolve("run" + i)));
      try (RawConnection racing = server.raw()) {
        server.close();
        assertThat(racing.isClosedByServer()).as("run %d", i).isTrue();
      }
    }
  }

  @Test
  void acknowledgedUploadsSurviveARestartOnTheSameFolder() throws IOException {
    byte[] data = randomBytes(10_000, 1);
    String url;
    try (TestServer server = TestServer.start(dir)) {
      url = server.upload(data, "image/jpeg", "a.jpg").get("url").asText();
    }
    try (TestServer server = TestServer.start(dir)) {
      assertThat(server.get(url).body()).isEqualTo(data);
      assertThat(server.get(url).headers().firstValue("Content-Type")).hasValue("image/jpeg");
    }
  }

  @Test
  void portInUseIsAnIOExceptionAndLeavesTheStoreClosed(@TempDir Path other) throws IOException {
    try (TestServer first = TestServer.start(dir)) {
      ServerConfig clash = TestServer.config(other).withPort(first.port());
      assertThatThrownBy(() -> WimgServer.start(clash))
          .isInstanceOf(IOException.class)
          .hasMessageStartingWith("cannot listen on 127.0.0.1:" + first.port());
      try (TestServer again = TestServer.start(TestServer.config(other))) {
        assertThat(again.get("/status").statusCode()).isEqualTo(200);
      }
    }
  }
}
