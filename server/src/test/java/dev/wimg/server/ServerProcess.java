package dev.wimg.server;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * A {@link WimgServer} in a child JVM ({@link ServerProcessMain}) on this test's class path, for
 * tests whose input may make libvips abort: the abort kills the child, and the test sees a dead
 * process with its exit status and last output instead of losing its own JVM.
 *
 * <p>The child's standard output and error (logs, the JVM's and libvips' last words) go to one log
 * file that {@link #logTail} quotes.
 */
final class ServerProcess implements AutoCloseable {

  /** How long a child JVM may take to listen on a busy 2-core machine, seconds. */
  private static final long START_TIMEOUT_SECONDS = 60;
  /** How long the child may take to stop once its standard input ends, seconds. */
  private static final long STOP_TIMEOUT_SECONDS = 30;
  /** Lines of the child's log quoted by {@link #logTail}. */
  private static final int TAIL_LINES = 30;

  private final Process process;
  private final int port;
  private final Path log;

  private ServerProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /**
   * Starts the child and returns once it listens.
   *
   * @param dataDir  the server's data folder
   * @param log      file that receives the child's standard output and error
   * @param jvmFlags flags for the child JVM, for example {@code -Xmx256m}
   */
  static ServerProcess start(Path dataDir, Path log, List<String> jvmFlags) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new java.util.ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
    command.addAll(jvmFlags);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), ServerProcessMain.class.getName(),
        dataDir.toString()));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    CompletableFuture<Integer> ready = new CompletableFuture<>();
    Thread.ofPlatform().daemon().name("server-process-" + process.pid()).start(() -> {
      // Copies the child's output for its whole life, so that it never blocks on a full pipe. A
      // platform thread: a virtual one reading a child's pipe was seen to miss a ready line that
      // sat in the pipe (DistributionProcessesTest, a restarted tracker, 4 runs of 4).
      try (BufferedReader out = process.inputReader(StandardCharsets.UTF_8);
           BufferedWriter file = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
        for (String line; (line = out.readLine()) != null; ) {
          file.write(line);
          file.newLine();
          file.flush();
          if (line.startsWith(ServerProcessMain.READY)) {
            ready.complete(Integer.parseInt(line.substring(ServerProcessMain.READY.length()).strip()));
          }
        }
        ready.completeExceptionally(new IOException("the server process ended without listening"));
      } catch (IOException | RuntimeException e) {
        ready.completeExceptionally(e);
      }
    });
    try {
      return new ServerProcess(process, ready.get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS), log);
    } catch (ExecutionException | TimeoutException e) {
      process.destroyForcibly().waitFor();
      throw new AssertionError("the server process did not start: " + e + "\n" + tail(log), e);
    }
  }

  int port() {
    return port;
  }

  long pid() {
    return process.pid();
  }

  URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + port + pathAndQuery);
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /**
   * The child's exit status once it has ended (waiting up to {@code seconds} for it), or -1 when it
   * still runs: 134 is {@code SIGABRT}, a libvips assertion.
   */
  int exitStatus(long seconds) throws InterruptedException {
    return process.waitFor(seconds, TimeUnit.SECONDS) ? process.exitValue() : -1;
  }

  /**
   * A field of the child's {@code /proc/<pid>/status}, in bytes: {@code VmHWM} is the peak resident
   * set, {@code VmRSS} the present one.
   */
  long procStatusBytes(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
        if (line.startsWith(field + ":")) {
          String[] parts = line.substring(field.length() + 1).strip().split("\\s+");
          if (parts.length != 2 || !parts[1].equals("kB")) {
            throw new IllegalStateException("unexpected /proc status line: " + line);
          }
          return Long.parseLong(parts[0]) * 1024;
        }
      }
      throw new IllegalStateException("no " + field + " in /proc/" + process.pid() + "/status");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Uploads {@code body} as one raw {@code POST /files} on a new connection and returns its fid;
   * anything but a 201 fails the test, naming {@code context}.
   *
   * @param name the file name the upload gives ({@code ?name=})
   * @param type its Content-Type
   */
  String upload(byte[] body, String name, String type, Supplier<String> context) {
    String head = "POST /files?name=" + name + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Content-Type: " + type + "\r\nContent-Length: " + body.length
        + "\r\nConnection: close\r\n\r\n";
    byte[] request = new byte[head.length() + body.length];
    System.arraycopy(head.getBytes(StandardCharsets.ISO_8859_1), 0, request, 0, head.length());
    System.arraycopy(body, 0, request, head.length(), body.length);
    RawConnection.Response response = exchange(request, context);
    if (response.status() != 201) {
      throw new AssertionError("upload of " + context.get() + " answered " + response.status()
          + ": " + response.bodyText());
    }
    try {
      return TestServer.JSON.readTree(response.body()).get("fid").asText();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code GET pathAndQuery} on a new connection, as {@link #exchange}. */
  RawConnection.Response get(String pathAndQuery, Supplier<String> context) {
    String request = "GET " + pathAndQuery + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    return exchange(request.getBytes(StandardCharsets.ISO_8859_1), context);
  }

  /**
   * One request on a new connection. An answer missing ({@link RawConnection#READ_TIMEOUT_MILLIS}),
   * a reset connection or a dead server fails the test, naming {@code context}; a dead server with
   * its exit status (134: {@code SIGABRT}, a libvips assertion) and its last output.
   */
  RawConnection.Response exchange(byte[] request, Supplier<String> context) {
    try (RawConnection connection = new RawConnection(port)) {
      return connection.send(request).read();
    } catch (IOException e) {
      String failure = e instanceof SocketTimeoutException
          ? "no answer within " + RawConnection.READ_TIMEOUT_MILLIS + " ms"
          : e instanceof SocketException ? "connection reset or refused (" + e + ")" : e.toString();
      try {
        int exit = exitStatus(isAlive() && e instanceof SocketTimeoutException ? 0 : 10);
        if (exit >= 0) {
          failure = "the server process died (exit status " + exit + (exit == 134 ? ", SIGABRT" : "")
              + ") on " + context.get() + "; its output ends with:\n" + logTail();
          throw new AssertionError(failure, e);
        }
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
      }
      throw new AssertionError(failure + " on " + context.get(), e);
    }
  }

  /** The last lines of the child's log. */
  String logTail() {
    return tail(log);
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size()));
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  /**
   * Ends the child's standard input so it stops; kills it if it has not stopped in time, or at once
   * when this thread is interrupted (keeping the interrupt).
   */
  @Override
  public void close() {
    try {
      process.getOutputStream().close();
    } catch (IOException e) {
      // the child has gone already
    }
    try {
      if (!process.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
