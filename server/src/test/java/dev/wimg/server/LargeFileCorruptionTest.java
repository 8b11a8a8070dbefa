package dev.wimg.server;

import static dev.wimg.server.TestServer.json;
import static dev.wimg.server.TestServer.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.wimg.protocol.Fid;
import dev.wimg.server.tracker.TrackerConfig;
import dev.wimg.server.tracker.TrackerServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A chunk of a large file damaged on disk (one byte flipped in its data in the volume file, under
 * the running server): a download never carries a byte of it (issue 11, "A chunk that fails its
 * check is never sent"). Alone, the server cuts the body short at the chunk (the head was sent) or
 * answers 500 when it is the first chunk asked; in a group of two, the member reads the chunk from
 * its peer's copy, repairs its own and serves the file whole ({@code ReplicatedStore#read}, the
 * same path as a plain file's read).
 *
 * <p>Runs in the trackers' JVM (server/pom.xml): the cluster case starts a tracker.
 */
@ExtendWith(NettyLeakCheck.class)
class LargeFileCorruptionTest {

  private static final int CHUNK = 8 << 20;
  private static final int MIB = 1 << 20;
  /** The file: three chunks of 8 MiB and one of 4 MiB. */
  private static final int SIZE = 3 * CHUNK + 4 * MIB;
  /** Bytes of the file searched for in the volume files to find where a chunk's data lies. */
  private static final int SAMPLE = 64;
  private static final Duration SETTLE = Duration.ofSeconds(60);

  @TempDir
  Path dir;

  @Test
  void aDamagedChunkIsNeverSentWhileTheRestOfTheFileStillReads() throws Exception {
    byte[] data = randomBytes(SIZE, 31);
    int damaged = 2;
    long damagedFrom = (long) damaged * CHUNK;
    try (TestServer server = TestServer.start(TestServer.config(dir).withMaxUploadBytes(256L << 20))) {
      String url = server.upload(data, "application/octet-stream", "disc.bin").get("url").asText();
      flipByteOf(dir, data, damagedFrom + 3 * MIB);

      // the whole file: the head and the chunks before the damaged one, then the connection closes
      Cut whole = getUntilClosed(server.port(), url, null);
      assertThat(whole.status).isEqualTo(200);
      assertThat(whole.contentLength).isEqualTo(SIZE);
      assertThat(whole.body).as("every byte sent is the file's").isEqualTo(Arrays.copyOf(data, whole.body.length));
      assertThat((long) whole.body.length).as("the body stops where the damaged chunk starts")
          .isEqualTo(damagedFrom);

      // a range that starts before the damaged chunk is cut short the same way
      long from = damagedFrom - MIB;
      Cut across = getUntilClosed(server.port(), url, "bytes=" + from + "-" + (damagedFrom + MIB - 1));
      assertThat(across.status).isEqualTo(206);
      assertThat(across.contentLength).isEqualTo(2L * MIB);
      assertThat(across.body).isEqualTo(Arrays.copyOfRange(data, (int) from, (int) damagedFrom));

      // a range within the damaged chunk: nothing was sent yet, so an error
      HttpResponse<byte[]> inside = server.get(url, "Range", "bytes=" + (damagedFrom + MIB) + "-"
          + (damagedFrom + 2 * MIB));
      assertThat(inside.statusCode()).isEqualTo(500);
      assertThat(json(inside).get("error").asText()).isEqualTo("stored data failed its checksum");
      assertThat(new String(inside.body(), StandardCharsets.ISO_8859_1)).hasSizeLessThan(1000);

      // ranges that avoid the damaged chunk read as ever
      HttpResponse<byte[]> before = server.get(url, "Range", "bytes=0-" + (damagedFrom - 1));
      assertThat(before.statusCode()).isEqualTo(206);
      assertThat(before.body()).isEqualTo(Arrays.copyOf(data, (int) damagedFrom));
      HttpResponse<byte[]> after = server.get(url, "Range", "bytes=" + (damagedFrom + CHUNK) + "-");
      assertThat(after.statusCode()).isEqualTo(206);
      assertThat(after.body()).isEqualTo(Arrays.copyOfRange(data, (int) damagedFrom + CHUNK, SIZE));
      assertThat(server.head(url).statusCode()).isEqualTo(200);

      // the chunk list still answers, with the SHA-256s of the bytes as uploaded
      HttpResponse<byte[]> listed = server.get(url + "?chunks");
      assertThat(listed.statusCode()).isEqualTo(200);
      JsonNode chunks = json(listed).get("chunks");
      assertThat(chunks).hasSize(4);
      assertThat(chunks.get(damaged).get("offset").asLong()).isEqualTo(damagedFrom);
      assertThat(chunks.get(damaged).get("sha256").asText())
          .isEqualTo(sha256Hex(Arrays.copyOfRange(data, (int) damagedFrom, (int) damagedFrom + CHUNK)));

      assertThat(json(server.get("/status")).get("volumes").findValues("damagedNeedles").stream()
          .mapToLong(JsonNode::asLong).sum()).isEqualTo(1);
    }
  }

  @Test
  void aDamagedChunkOnOneMemberIsReadFromItsPeerAndRepaired() throws Exception {
    byte[] data = randomBytes(SIZE, 32);
    try (InProcessCluster cluster = new InProcessCluster(dir)) {
      TrackerServer tracker = cluster.tracker(TrackerConfig.defaults().withDownAfter(Duration.ofMillis(500)));
      StorageNode first = cluster.node(tracker.url(), 1, "first", 0);
      StorageNode second = cluster.node(tracker.url(), 1, "second", 0);
      await().atMost(SETTLE).until(() -> members(cluster, tracker) == 2
          && TestServer.JSON.readTree(get(cluster, tracker.url().resolve("/cluster")).body())
              .at("/groups/0/writable").asBoolean());
      HttpResponse<byte[]> up = cluster.http.send(HttpRequest.newBuilder(first.url().resolve("/files?name=disc.bin"))
          .POST(HttpRequest.BodyPublishers.ofByteArray(data)).build(), HttpResponse.BodyHandlers.ofByteArray());
      assertThat(up.statusCode()).as(new String(up.body(), StandardCharsets.UTF_8)).isEqualTo(201);
      String url = json(up).get("url").asText();
      // the upload was acknowledged with both copies: both members hold every chunk, in the
      // volume the first writes
      int volume = Fid.parse(url.substring(1)).volume();
      assertThat(volume >> 16).isEqualTo(first.slot());

      // one chunk damaged on the writer's copy, another on its peer's
      Path firstVolumes = dir.resolve("first");
      Path secondVolumes = dir.resolve("second");
      Flip onFirst = flipByteOf(firstVolumes, data, CHUNK + 5 * MIB);
      Flip onSecond = flipByteOf(secondVolumes, data, 2L * CHUNK + 6 * MIB);

      for (StorageNode member : new StorageNode[] {first, second}) {
        HttpResponse<InputStream> get = cluster.http.send(HttpRequest.newBuilder(member.url().resolve(url)).build(),
            HttpResponse.BodyHandlers.ofInputStream());
        assertThat(get.statusCode()).isEqualTo(200);
        try (InputStream body = get.body()) {
          assertThat(body.readAllBytes()).as("from " + member.url()).isEqualTo(data);
        }
        assertThat(status(cluster, member).at("/replication/repairs").asLong()).isEqualTo(1);
        assertThat(status(cluster, member).get("volumes").findValues("damagedNeedles").stream()
            .mapToLong(JsonNode::asLong).sum()).as("no needle is left damaged").isZero();
      }
      // each repaired on disk: the flipped bytes are the file's again
      assertThat(onFirst.now()).isEqualTo(data[CHUNK + 5 * MIB]);
      assertThat(onSecond.now()).isEqualTo(data[2 * CHUNK + 6 * MIB]);
      // and a range within a repaired chunk reads from the local copy
      HttpResponse<byte[]> range = cluster.http.send(HttpRequest.newBuilder(first.url().resolve(url))
          .header("Range", "bytes=" + (CHUNK + 5 * MIB) + "-" + (CHUNK + 5 * MIB + 99)).build(),
          HttpResponse.BodyHandlers.ofByteArray());
      assertThat(range.body()).isEqualTo(Arrays.copyOfRange(data, CHUNK + 5 * MIB, CHUNK + 5 * MIB + 100));
      assertThat(status(cluster, first).at("/replication/repairs").asLong()).isEqualTo(1);
    }
  }

  private static int members(InProcessCluster cluster, TrackerServer tracker) throws Exception {
    return TestServer.JSON.readTree(get(cluster, tracker.url().resolve("/cluster")).body())
        .at("/groups/0/members").size();
  }

  private static JsonNode status(InProcessCluster cluster, StorageNode node) throws Exception {
    return TestServer.JSON.readTree(get(cluster, node.url().resolve("/status")).body());
  }

  private static HttpResponse<byte[]> get(InProcessCluster cluster, URI uri) throws Exception {
    return cluster.http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  /** What a GET delivered before the server closed the connection. */
  private record Cut(int status, long contentLength, byte[] body) {}

  /**
   * {@code GET path} (with {@code range}, or none when null) on a connection of its own, reading
   * the body until the server closes: fewer bytes than its Content-Length when it was cut short.
   */
  private static Cut getUntilClosed(int port, String path, String range) throws IOException {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
      socket.setSoTimeout(RawConnection.READ_TIMEOUT_MILLIS);
      String request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          + (range == null ? "" : "Range: " + range + "\r\n") + "\r\n";
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = new java.io.BufferedInputStream(socket.getInputStream());
      String statusLine = line(in);
      int status = Integer.parseInt(statusLine.split(" ")[1]);
      long length = -1;
      for (String header = line(in); !header.isEmpty(); header = line(in)) {
        if (header.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
          length = Long.parseLong(header.substring("content-length:".length()).strip());
        }
      }
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      try {
        in.transferTo(body);
      } catch (java.net.SocketException reset) {
        // closed by the server: what came before is the body
      }
      assertThat((long) body.size()).as("the body is cut short").isLessThan(length);
      return new Cut(status, length, body.toByteArray());
    }
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder s = new StringBuilder();
    for (int c; (c = in.read()) != '\n'; ) {
      if (c < 0) {
        throw new IOException("connection closed in the head, after: " + s);
      }
      if (c != '\r') {
        s.append((char) c);
      }
    }
    return s.toString();
  }

  /**
   * Flips one byte of the volume file under {@code folder} that holds {@code data[at]}: found by
   * the {@value #SAMPLE} bytes of the file from there, which occur once in random data. The store
   * maps its volumes shared, so the running server sees the flip at its next read.
   *
   * @return where the flipped byte is
   */
  private static Flip flipByteOf(Path folder, byte[] data, long at) throws IOException {
    byte[] sample = Arrays.copyOfRange(data, (int) at, (int) at + SAMPLE);
    try (Stream<Path> files = Files.list(folder)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".dat")).toList()) {
        byte[] content = Files.readAllBytes(file);
        int found = CorruptionTest.indexOf(content, sample, 0);
        if (found >= 0) {
          assertThat(CorruptionTest.indexOf(content, sample, found + 1)).as("the sample occurs once").isNegative();
          try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {(byte) (content[found] ^ 0x40)}), found);
          }
          return new Flip(file, found);
        }
      }
    }
    throw new AssertionError("byte " + at + " of the file is in no volume under " + folder);
  }

  /** A byte {@link #flipByteOf} flipped: its volume file and offset there. */
  private record Flip(Path file, long offset) {
    /** The byte there now. */
    byte now() throws IOException {
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        ByteBuffer one = ByteBuffer.allocate(1);
        ch.read(one, offset);
        return one.get(0);
      }
    }
  }


  private static String sha256Hex(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
