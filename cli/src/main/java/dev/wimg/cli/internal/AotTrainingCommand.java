package dev.wimg.cli.internal;

import dev.wimg.cli.ExitCode;
import dev.wimg.server.ServerConfig;
import dev.wimg.server.WimgServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;

/**
 * {@code wimg aot-training} (hidden): the run the {@code ./wimg} launcher records once per build
 * into an ahead-of-time cache ({@code -XX:AOTCacheOutput}, JDK 25: classes loaded and linked,
 * method profiles), which the client commands then start from ({@code -XX:AOTCache}). It does
 * what users do most: against a server started in this process on a free port, in a temporary
 * folder removed afterwards, it uploads a small file and a large one (parallel parts), downloads
 * both (the large one in parallel ranges), asks the status and deletes them, through the real
 * commands, their output dropped. A cache only makes a start faster; a missing or stale one is
 * ignored, so a failed training costs nothing but its time.
 */
@Command(name = "aot-training", hidden = true,
    description = "Exercise the client commands once, for the launcher's start-up cache.")
final class AotTrainingCommand implements Callable<Integer> {

  private final Environment environment;

  AotTrainingCommand(Environment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() throws IOException {
    Path dir = Files.createTempDirectory("wimg-aot-training");
    try (WimgServer server = WimgServer.start(ServerConfig.defaults(dir.resolve("data")).withPort(0))) {
      String url = "http://127.0.0.1:" + server.port();
      Path small = write(dir.resolve("small.jpg"), 100 << 10);
      Path large = write(dir.resolve("large.bin"), 24 << 20);
      String[] uploaded = run(dir, "upload", "--server", url, small.toString(), large.toString()).split("\n");
      for (String line : uploaded) {
        String fid = line.split(" ")[0];
        run(dir, "download", "--server", url, "-o", dir.resolve("copy").toString(), fid);
        run(dir, "rm", "--server", url, fid);
      }
      run(dir, "status", "--server", url);
      return uploaded.length == 2 ? ExitCode.OK.code() : ExitCode.FAILURE.code();
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /** Runs a command as the CLI would, with no environment of the user's; returns its stdout. */
  private String run(Path dir, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream none = new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
    int code = WimgCommand.run(new Environment(Map.of(), dir, new PrintStream(out, true, StandardCharsets.UTF_8), none),
        args);
    if (code != 0) {
      environment.err().println("wimg aot-training: " + String.join(" ", args) + " exited " + code);
    }
    return out.toString(StandardCharsets.UTF_8).strip();
  }

  private static Path write(Path file, int size) throws IOException {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return Files.write(file, bytes);
  }
}
