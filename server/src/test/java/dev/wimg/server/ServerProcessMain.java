package dev.wimg.server;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Run in a child JVM by {@link ServerProcess}: a {@link WimgServer} as {@link TestServer} configures
 * it (loopback, ephemeral port, fsync never), with the imaging engine detected as in production, so
 * that a native abort inside it kills this process and not the test run.
 *
 * <p>Argument: the data folder. Prints {@value #READY} and the port on standard output once it
 * listens (the logger writes there too), and stops when its standard input ends.
 */
public final class ServerProcessMain {

  /** Start of the line that says the server listens, followed by its port. */
  static final String READY = "@ ready ";

  private ServerProcessMain() {
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      throw new IllegalArgumentException("usage: ServerProcessMain <data folder>, got " + args.length + " arguments");
    }
    try (WimgServer server = WimgServer.start(TestServer.config(Path.of(args[0])))) {
      new PrintStream(System.out, true, StandardCharsets.UTF_8).println(READY + server.port());
      // The parent closes our standard input to stop us, or dies and the pipe ends.
      System.in.transferTo(java.io.OutputStream.nullOutputStream());
    }
  }
}
