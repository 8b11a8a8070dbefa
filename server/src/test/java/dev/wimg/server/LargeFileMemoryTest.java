package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's memory while large files stream both ways (issue 11): four raw uploads of 1 GiB
 * and four downloads of a 1 GiB file at once keep the server process below {@link
 * #MAX_SERVER_PEAK_RSS} of resident memory, and every byte arrives as sent.
 *
 * <p>The server runs in a child JVM ({@link ServerProcess}) with the flags the {@code ./wimg}
 * launcher gives it in production and no heap limit: the JVM's default maximum heap (a quarter of
 * the machine's memory) and direct memory (as much again), so the bound is the server's own
 * (chunk buffers taken from the upload memory, one chunk in flight per download), not a limit
 * the test set. The uploads are generated as they are sent (1 MiB of random bytes, each MiB
 * stamped with its stream and index), the downloads hashed as they arrive: the test holds no
 * file in memory. About 5 GiB go to the temporary folder, deleted after.
 */
class LargeFileMemoryTest {

  /** The bound on the server's resident memory, bytes. */
  private static final long MAX_SERVER_PEAK_RSS = 600L << 20;
  private static final long FILE_BYTES = 1L << 30;
  private static final int STREAMS = 4;
  private static final int BLOCK = 1 << 20;
  private static final int CHUNK = 8 << 20;
  /** Free space the test needs in its temporary folder: five files of 1 GiB and some room. */
  private static final long NEEDED_DISK_BYTES = 6L << 30;
  /** How often the child's resident memory is sampled, milliseconds. */
  private static final long SAMPLE_MILLIS = 20;
  /** The longest a transfer of 1 GiB may take on a busy 2-core machine, milliseconds. */
  private static final int SOCKET_TIMEOUT_MILLIS = 120_000;
  /** The flags of the {@code ./wimg} launcher (read it: {@code exec java ...}). */
  private static final List<String> LAUNCHER_FLAGS = List.of("-Xss512k", "-Dio.netty.leakDetection.level=disabled");

  @TempDir
  Path dir;

  @Test
  void fourOneGibUploadsAndFourDownloadsAtOnceStayBelow600MibOfResidentMemory() throws Exception {
    assertThat(Files.getFileStore(dir).getUsableSpace()).as("free bytes in %s", dir)
        .isGreaterThan(NEEDED_DISK_BYTES);
    byte[] block = new byte[BLOCK];
    new Random(11).nextBytes(block);
    try (ServerProcess server = ServerProcess.start(dir.resolve("data"), dir.resolve("server.log"), LAUNCHER_FLAGS)) {
      Upload first = upload(server.port(), block, 0);
      assertThat(first.size()).isEqualTo(FILE_BYTES);
      long started = System.nanoTime();
      long beforeRss = server.procStatusBytes("VmRSS");

      AtomicBoolean running = new AtomicBoolean(true);
      AtomicLong peakRss = new AtomicLong();
      AtomicLong peakAnon = new AtomicLong();
      Thread sampler = Thread.ofPlatform().name("rss-sampler").start(() -> {
        while (running.get() && server.isAlive()) {
          try {
            peakRss.accumulateAndGet(server.procStatusBytes("VmRSS"), Math::max);
            peakAnon.accumulateAndGet(server.procStatusBytes("RssAnon"), Math::max);
            Thread.sleep(SAMPLE_MILLIS);
          } catch (InterruptedException e) {
            return;
          } catch (RuntimeException processGone) {
            return;
          }
        }
      });
      List<CompletableFuture<Upload>> uploads = new ArrayList<>();
      List<CompletableFuture<Download>> downloads = new ArrayList<>();
      try (ExecutorService clients = Executors.newFixedThreadPool(2 * STREAMS)) {
        for (int i = 0; i < STREAMS; i++) {
          int stream = i + 1;
          uploads.add(CompletableFuture.supplyAsync(() -> upload(server.port(), block, stream), clients));
          downloads.add(CompletableFuture.supplyAsync(() -> download(server.port(), "/" + first.fid()), clients));
        }
        CompletableFuture.allOf(uploads.toArray(CompletableFuture[]::new))
            .thenCombine(CompletableFuture.allOf(downloads.toArray(CompletableFuture[]::new)), (a, b) -> null)
            .get(3 * SOCKET_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
      } finally {
        running.set(false);
        sampler.join();
      }
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
      long peak = server.procStatusBytes("VmHWM");
      System.out.printf(Locale.ROOT, "%d uploads and %d downloads of 1 GiB at once in %d s: server RSS %d MiB"
              + " before, peak %d MiB (sampled %d MiB, of it anonymous %d MiB)%n", STREAMS, STREAMS, seconds,
          beforeRss >> 20, peak >> 20, peakRss.get() >> 20, peakAnon.get() >> 20);

      for (CompletableFuture<Download> d : downloads) {
        assertThat(d.join().status()).isEqualTo(200);
        assertThat(d.join().bytes()).isEqualTo(FILE_BYTES);
        assertThat(d.join().chunkSha256s()).as("SHA-256 of each 8 MiB of the download")
            .isEqualTo(first.chunkSha256s());
      }
      for (CompletableFuture<Upload> u : uploads) {
        Upload up = u.join();
        assertThat(up.size()).isEqualTo(FILE_BYTES);
        // the server's SHA-256 of every chunk it stored is the sender's
        RawConnection.Response listed = server.get("/" + up.fid() + "?chunks", () -> "the chunks of " + up.fid());
        assertThat(listed.status()).isEqualTo(200);
        List<String> stored = new ArrayList<>();
        for (JsonNode c : TestServer.JSON.readTree(listed.body()).get("chunks")) {
          stored.add(c.get("sha256").asText());
        }
        assertThat(stored).as("chunk SHA-256s of %s", up.fid()).isEqualTo(up.chunkSha256s());
      }
      assertThat(server.isAlive()).isTrue();
      assertThat(peak).as("server peak RSS (VmHWM); log:%n%s", server.logTail()).isLessThan(MAX_SERVER_PEAK_RSS);
    }
  }

  /**
   * A file as uploaded: its fid and size as answered, the SHA-256 of each 8 MiB as sent (the
   * server's chunks: {@code ?chunks} lists theirs).
   */
  private record Upload(String fid, long size, List<String> chunkSha256s) {}

  /** A download: status, bytes received, the SHA-256 of each 8 MiB received. */
  private record Download(int status, long bytes, List<String> chunkSha256s) {}

  /**
   * {@code POST /files} of 1 GiB with a Content-Length, generated as it goes: MiB {@code i} of
   * stream {@code stream} is {@code block} with its first 16 bytes the stream and the index.
   */
  private static Upload upload(int port, byte[] block, int stream) {
    try (Socket socket = connect(port)) {
      String head = "POST /files?name=stream-" + stream + ".bin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          + "Content-Type: application/octet-stream\r\nContent-Length: " + FILE_BYTES + "\r\n\r\n";
      OutputStream out = socket.getOutputStream();
      out.write(head.getBytes(StandardCharsets.ISO_8859_1));
      MessageDigest chunk = MessageDigest.getInstance("SHA-256");
      List<String> chunks = new ArrayList<>();
      byte[] mine = block.clone();
      for (long i = 0; i < FILE_BYTES / BLOCK; i++) {
        java.nio.ByteBuffer.wrap(mine).putLong(stream).putLong(i);
        out.write(mine);
        chunk.update(mine);
        if ((i + 1) * BLOCK % CHUNK == 0) {
          chunks.add(HexFormat.of().formatHex(chunk.digest()));
        }
      }
      out.flush();
      InputStream in = new BufferedInputStream(socket.getInputStream());
      Head answer = head(in);
      byte[] body = in.readNBytes((int) answer.contentLength());
      assertThat(answer.status()).as(new String(body, StandardCharsets.UTF_8)).isEqualTo(201);
      JsonNode json = TestServer.JSON.readTree(body);
      return new Upload(json.get("fid").asText(), json.get("size").asLong(), chunks);
    } catch (IOException | java.security.NoSuchAlgorithmException e) {
      throw new AssertionError("upload of stream " + stream + " failed", e);
    }
  }

  /** {@code GET path}, the body hashed by 8 MiB as it arrives. */
  private static Download download(int port, String path) {
    try (Socket socket = connect(port)) {
      socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = new BufferedInputStream(socket.getInputStream(), 256 << 10);
      Head answer = head(in);
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      List<String> chunks = new ArrayList<>();
      byte[] buffer = new byte[256 << 10];
      long left = answer.contentLength();
      long got = 0;
      while (left > 0) {
        // never past a chunk's end, so each digest covers one chunk
        int n = in.read(buffer, 0, (int) Math.min(Math.min(buffer.length, left), CHUNK - got % CHUNK));
        if (n < 0) {
          break;
        }
        digest.update(buffer, 0, n);
        left -= n;
        got += n;
        if (got % CHUNK == 0 || left == 0) {
          chunks.add(HexFormat.of().formatHex(digest.digest()));
        }
      }
      return new Download(answer.status(), got, chunks);
    } catch (IOException | java.security.NoSuchAlgorithmException e) {
      throw new AssertionError("download of " + path + " failed", e);
    }
  }

  private static Socket connect(int port) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
    socket.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
    return socket;
  }

  private record Head(int status, long contentLength) {}

  private static Head head(InputStream in) throws IOException {
    String status = line(in);
    long length = 0;
    for (String h = line(in); !h.isEmpty(); h = line(in)) {
      if (h.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
        length = Long.parseLong(h.substring("content-length:".length()).strip());
      }
    }
    return new Head(Integer.parseInt(status.split(" ")[1]), length);
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream s = new ByteArrayOutputStream();
    for (int c; (c = in.read()) != '\n'; ) {
      if (c < 0) {
        throw new IOException("connection closed in a response head, after: " + s);
      }
      if (c != '\r') {
        s.write(c);
      }
    }
    return s.toString(StandardCharsets.ISO_8859_1);
  }
}
