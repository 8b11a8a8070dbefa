package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.testsupport.RandomFiles;
import dev.wimg.testsupport.Requirement;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real tus client, Debian's python3-tuspy, uploads a 300 MiB file and is killed with SIGKILL
 * half-way; run again, it finds the upload's URL in its store, asks the server's offset and sends
 * only the rest; the file reads back byte-identical.
 */
class TuspyResumeTest {

  private static final long SIZE = 300L << 20;

  @TempDir
  Path dir;

  private static final String CLIENT = """
      import sys
      from tusclient import client
      from tusclient.storage import filestorage
      endpoint, path, store = sys.argv[1], sys.argv[2], sys.argv[3]
      c = client.TusClient(endpoint, headers={"Tus-Resumable": "1.0.0"})
      u = c.uploader(path, chunk_size=4 * 1024 * 1024, store_url=True,
                     url_storage=filestorage.FileStorage(store),
                     metadata={"filename": "big.bin"}, upload_checksum=True)
      if u.url is None:  # a first run: tuspy creates the upload in upload(); here, to print it
          u.set_url(u.create_url())
          u.offset = 0
      print("start", u.offset, u.url, flush=True)
      u.upload()
      print("done", u.offset, u.url, flush=True)
      """;

  private Process tuspy(TestServer server, Path file, Path script) throws Exception {
    return new ProcessBuilder(Requirement.SYSTEM_PYTHON, script.toString(),
        server.uri("/uploads/").toString(), file.toString(), dir.resolve("tus-urls.json").toString())
        .redirectErrorStream(true).start();
  }

  @Test
  void tuspyKilledHalfWayResumesFromTheServersOffset() throws Exception {
    Requirement.TUSPY.require();
    Path file = dir.resolve("big.bin");
    String sent = RandomFiles.write(file, SIZE, 42);
    Path script = Files.writeString(dir.resolve("upload.py"), CLIENT);
    try (TestServer server = TestServer.start(TestServer.config(dir.resolve("data"))
        .withMaxUploadBytes(512L << 20))) {
      Process first = tuspy(server, file, script);
      BufferedReader firstOut = new BufferedReader(new InputStreamReader(first.getInputStream(), StandardCharsets.UTF_8));
      String[] start = firstOut.readLine().split(" ");
      assertThat(start[0]).as(String.join(" ", start)).isEqualTo("start");
      assertThat(start[1]).isEqualTo("0");
      String path = URI.create(start[2]).getPath();
      org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(20))
          .until(() -> offset(server, path) >= SIZE / 2);
      first.destroyForcibly(); // SIGKILL
      assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
      long atKill = offset(server, path);
      assertThat(atKill).isLessThan(SIZE);

      Process second = tuspy(server, file, script);
      String output = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(second.waitFor(2, TimeUnit.MINUTES)).isTrue();
      assertThat(second.exitValue()).as(output).isZero();
      String[] lines = output.strip().split("\n");
      String[] resumed = lines[0].split(" ");
      assertThat(resumed[0]).as(output).isEqualTo("start");
      // where the server is: at least what it held when the client died (a PATCH the client had
      // sent in full may have been stored just after), less than the whole file
      assertThat(Long.parseLong(resumed[1])).as("the second run starts where the server is")
          .isGreaterThanOrEqualTo(atKill).isLessThan(SIZE);
      assertThat(URI.create(resumed[2]).getPath()).isEqualTo(path);
      assertThat(lines[lines.length - 1]).isEqualTo("done " + SIZE + " " + resumed[2]);

      HttpResponse<byte[]> head = server.send(server.request(path).header("Tus-Resumable", "1.0.0")
          .method("HEAD", HttpRequest.BodyPublishers.noBody()));
      String fid = head.headers().firstValue("X-Wimg-Fid").orElseThrow();
      HttpResponse<InputStream> file2 = server.http.send(server.request("/" + fid).GET().build(),
          HttpResponse.BodyHandlers.ofInputStream());
      assertThat(RandomFiles.digest(file2.body())).isEqualTo(new RandomFiles.Digest(sent, SIZE));
    }
  }

  private static long offset(TestServer server, String path) {
    HttpResponse<byte[]> head = server.send(server.request(path).header("Tus-Resumable", "1.0.0")
        .method("HEAD", HttpRequest.BodyPublishers.noBody()));
    return head.statusCode() == 200 ? Long.parseLong(head.headers().firstValue("Upload-Offset").orElse("0")) : 0;
  }
}
