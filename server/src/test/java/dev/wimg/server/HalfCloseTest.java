package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that send their requests and then shut down their sending side (TCP half-close), as
 * {@code curl --no-keepalive}-style tools and shell pipelines into {@code nc} do: every complete
 * request is answered, then the server closes.
 */
class HalfCloseTest {

  @TempDir
  Path dir;

  private static byte[] upload(byte[] body) {
    ByteArrayOutputStream request = new ByteArrayOutputStream();
    request.writeBytes(("POST /files HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
        + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
    request.writeBytes(body);
    return request.toByteArray();
  }

  @Test
  void uploadFollowedByHalfCloseGetsItsFidAndThenTheServerCloses() throws Exception {
    try (TestServer server = TestServer.start(dir)) {
      for (int i = 0; i < 10; i++) {
        byte[] body = TestServer.randomBytes(20_000, i);
        String fid;
        try (RawConnection c = server.raw()) {
          c.send(upload(body));
          c.socket.shutdownOutput();
          RawConnection.Response created = c.read();
          assertThat(created.status()).as("upload %d", i).isEqualTo(201);
          fid = TestServer.JSON.readTree(created.body()).get("fid").asText();
          assertThat(c.isClosedByServer()).isTrue();
        }
        assertThat(server.get("/" + fid).body()).isEqualTo(body);
      }
    }
  }

  @Test
  void pipelinedGetsFollowedByHalfCloseAreAllAnsweredInOrderThenTheServerCloses() throws Exception {
    try (TestServer server = TestServer.start(dir)) {
      byte[] body = TestServer.randomBytes(5_000, 7);
      String fid = server.upload(body, "application/octet-stream", null).get("fid").asText();
      try (RawConnection c = server.raw()) {
        // /status is answered from the blocking pool: the answer comes after the socket read ends.
        c.send("GET /status HTTP/1.1\r\nHost: x\r\n\r\n"
            + "GET /" + fid + " HTTP/1.1\r\nHost: x\r\n\r\n");
        c.socket.shutdownOutput();
        RawConnection.Response status = c.read();
        assertThat(status.status()).isEqualTo(200);
        JsonNode json = TestServer.JSON.readTree(status.body());
        assertThat(json.get("needles").asLong()).isEqualTo(1);
        RawConnection.Response file = c.read();
        assertThat(file.status()).isEqualTo(200);
        assertThat(file.body()).isEqualTo(body);
        assertThat(c.isClosedByServer()).isTrue();
      }
    }
  }

  @Test
  void getFollowedByHalfCloseIsAnsweredThenTheServerCloses() throws Exception {
    try (TestServer server = TestServer.start(dir)) {
      try (RawConnection c = server.raw()) {
        c.send("GET /status HTTP/1.1\r\nHost: x\r\n\r\n");
        c.socket.shutdownOutput();
        assertThat(c.read().status()).isEqualTo(200);
        assertThat(c.isClosedByServer()).isTrue();
      }
    }
  }

  @Test
  void halfCloseInsideABodyClosesWithoutStoringAnything() throws Exception {
    try (TestServer server = TestServer.start(dir)) {
      try (RawConnection c = server.raw()) {
        c.send("POST /files HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789");
        c.socket.shutdownOutput();
        assertThat(c.drainUntilClosed()).isZero();
      }
      assertThat(TestServer.json(server.get("/status")).get("needles").asLong()).isZero();
    }
  }

  @Test
  void halfCloseOfAnIdleConnectionClosesIt() throws Exception {
    try (TestServer server = TestServer.start(dir)) {
      try (RawConnection c = server.raw()) {
        c.send("GET /status HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(c.read().status()).isEqualTo(200);
        c.socket.shutdownOutput();
        assertThat(c.isClosedByServer()).isTrue();
      }
    }
  }
}
