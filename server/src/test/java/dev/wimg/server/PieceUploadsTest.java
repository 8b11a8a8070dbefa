package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a node sends for distribution pieces (reads carrying {@code X-Wimg-Task}), on a real server:
 * beyond its upload slots the next piece request is refused at once with {@code 503}, while reads
 * without the header go on; a slot is free again once its answer has left; a send rate holds
 * piece answers to it and leaves other reads alone.
 */
class PieceUploadsTest {

  @TempDir
  Path dir;

  @Test
  void aNodeSendingAllThePiecesItMayRefusesTheNextAtOnce() throws Exception {
    try (TestServer server = TestServer.start(TestServer.config(dir),
        NodeConfig.Distribution.DEFAULTS.withPieceCaps(0, 1, 0))) {
      byte[] file = TestServer.randomBytes(32 << 20, 12); // more than the sockets' buffers hold
      String fid = server.upload(file, "application/octet-stream", "piece.bin").get("fid").asText();
      try (RawConnection slow = new RawConnection(server.port(), 4096)) {
        // the one slot: its answer cannot leave while this connection reads nothing
        slow.send("GET /" + fid + " HTTP/1.1\r\nHost: wimg\r\nX-Wimg-Task: t1\r\n\r\n");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
          HttpResponse<byte[]> busy = server.get("/" + fid, "X-Wimg-Task", "t2");
          assertThat(busy.statusCode()).isEqualTo(503);
          assertThat(busy.headers().firstValue("Retry-After")).hasValue("0");
          assertThat(busy.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
              .startsWith("application/json"));
          assertThat(new String(busy.body())).contains("another holder");
        });
        HttpResponse<byte[]> client = server.get("/" + fid);
        assertThat(client.statusCode()).as("a read that is no piece request").isEqualTo(200);
        assertThat(client.body()).isEqualTo(file);

        RawConnection.Response first = slow.read(false);
        assertThat(first.status()).isEqualTo(200);
        assertThat(first.body()).isEqualTo(file);
      }
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        HttpResponse<byte[]> again = server.get("/" + fid, "X-Wimg-Task", "t3");
        assertThat(again.statusCode()).as("the slot is free once the answer has left").isEqualTo(200);
        assertThat(again.body()).isEqualTo(file);
      });
    }
  }

  @Test
  void aSendRateHoldsPieceAnswersToItAndNoOtherRead() throws Exception {
    long rate = 4 << 20;
    try (TestServer server = TestServer.start(TestServer.config(dir),
        NodeConfig.Distribution.DEFAULTS.withPieceCaps(0, 0, rate))) {
      byte[] file = TestServer.randomBytes(12 << 20, 13);
      String fid = server.upload(file, "application/octet-stream", "piece.bin").get("fid").asText();
      long start = System.nanoTime();
      HttpResponse<byte[]> piece = server.get("/" + fid, "X-Wimg-Task", "t1");
      double seconds = (System.nanoTime() - start) / 1e9;
      assertThat(piece.statusCode()).isEqualTo(200);
      assertThat(piece.body()).isEqualTo(file);
      // 12 MiB at 4 MiB/s: 3 s; the shaper lets a burst through before it holds back, hence 2 s.
      // A busy machine only makes it slower.
      assertThat(seconds).as("seconds for 12 MiB at 4 MiB/s").isGreaterThan(2.0);

      try (RawConnection other = server.raw()) {
        start = System.nanoTime();
        RawConnection.Response client = other.send("GET /" + fid + " HTTP/1.1\r\nHost: wimg\r\n\r\n").read(false);
        double clientSeconds = (System.nanoTime() - start) / 1e9;
        assertThat(client.status()).isEqualTo(200);
        assertThat(client.body()).isEqualTo(file);
        // loopback moves 12 MiB in tens of milliseconds: 2 s would mean the rate held it too
        assertThat(clientSeconds).as("seconds for a read on a connection that asked for no piece").isLessThan(2.0);
      }
    }
  }
}
