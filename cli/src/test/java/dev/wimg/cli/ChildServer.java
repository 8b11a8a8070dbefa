package dev.wimg.cli;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code wimg server} (or {@code tracker}, {@code storage}) in a child JVM on this test's class
 * path. {@link #start} returns once the child printed its line {@code wimg ... listening on URL};
 * its stderr goes to a log file that failures quote.
 */
final class ChildServer implements AutoCloseable {

  /** How long a child JVM may take to print its listening line on a busy 2-core machine. */
  private static final long START_TIMEOUT_SECONDS = 60;
  /** The ready line: "wimg", then anything, then this and the URL. */
  private static final String LISTENING = " listening on ";
  /** JVM options of a child: a small heap, and the C1 compiler only, which starts sooner. */
  private static final List<String> JVM_OPTIONS = List.of("-Xmx256m", "-XX:TieredStopAtLevel=1");
  /**
   * JVM options of a child that moves gigabytes ({@link #startForLargeTransfers}): C2 as well,
   * which on a 2-core machine made a 1 GiB upload about twice as fast (GigabyteTransferTest).
   */
  private static final List<String> LARGE_TRANSFER_JVM_OPTIONS = List.of("-Xmx256m");

  private final Process process;
  private final URI url;
  private final Path log;

  private ChildServer(Process process, URI url, Path log) {
    this.process = process;
    this.url = url;
    this.log = log;
  }

  /**
   * @param workingDir the child's working folder (so no stray {@code wimg.properties} is read)
   * @param log        file that receives the child's stderr (appended)
   * @param serverArgs arguments after {@code server --port 0}
   */
  static ChildServer start(Path workingDir, Path log, String... serverArgs)
      throws IOException, InterruptedException {
    return start(List.of(), JVM_OPTIONS, workingDir, log, withPortZero(serverArgs));
  }

  /**
   * Like {@link #start(Path, Path, String...)}, with the JIT compiler a long-running server has
   * ({@link #LARGE_TRANSFER_JVM_OPTIONS}), for tests that move gigabytes through it.
   */
  static ChildServer startForLargeTransfers(Path workingDir, Path log, String... serverArgs)
      throws IOException, InterruptedException {
    return start(List.of(), LARGE_TRANSFER_JVM_OPTIONS, workingDir, log, withPortZero(serverArgs));
  }

  /**
   * Like {@link #start(Path, Path, String...)}, but the child may create no file larger than
   * {@code fileSizeLimit} bytes ({@code RLIMIT_FSIZE}): past it {@code write} and {@code fallocate}
   * fail with EFBIG (the JVM ignores the SIGXFSZ that comes with it). Set with util-linux
   * {@code prlimit} where installed, else with the shell's {@code ulimit -f}; both exec the JVM, so
   * the limit holds for the child's own process id.
   *
   * @param fileSizeLimit bytes, a multiple of 512 ({@code ulimit -f} counts 512-byte blocks)
   */
  static ChildServer startWithFileSizeLimit(long fileSizeLimit, Path workingDir, Path log, String... serverArgs)
      throws IOException, InterruptedException {
    if (fileSizeLimit <= 0 || fileSizeLimit % 512 != 0) {
      throw new IllegalArgumentException("fileSizeLimit must be a positive multiple of 512, got " + fileSizeLimit);
    }
    List<String> launcher = onPath("prlimit")
        ? List.of("prlimit", "--fsize=" + fileSizeLimit, "--")
        : List.of("/bin/sh", "-c", "ulimit -f " + fileSizeLimit / 512 + " && exec \"$@\"", "sh");
    return start(launcher, JVM_OPTIONS, workingDir, log, withPortZero(serverArgs));
  }

  private static List<String> withPortZero(String... serverArgs) {
    List<String> args = new ArrayList<>(List.of("server", "--port", "0"));
    args.addAll(List.of(serverArgs));
    return args;
  }

  /**
   * Any {@code wimg} command that prints a ready line, {@code tracker} or {@code storage} for
   * example, with {@code args} as given (no port is added).
   */
  static ChildServer command(Path workingDir, Path log, String... args)
      throws IOException, InterruptedException {
    return start(List.of(), JVM_OPTIONS, workingDir, log, List.of(args));
  }

  /**
   * As {@link #command}, the child run in network namespace {@code namespace} by {@code ip netns
   * exec}, which execs it: its process id is the JVM's, so {@link #kill9} kills the JVM.
   */
  static ChildServer inNamespace(String namespace, Path workingDir, Path log, String... args)
      throws IOException, InterruptedException {
    return start(List.of("ip", "netns", "exec", namespace), JVM_OPTIONS, workingDir, log, List.of(args));
  }

  private static boolean onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }

  private static ChildServer start(List<String> launcher, List<String> jvmOptions, Path workingDir, Path log,
                                   List<String> args) throws IOException, InterruptedException {
    String java = ProcessHandle.current().info().command()
        .orElseThrow(() -> new IllegalStateException("cannot tell which java runs this test"));
    List<String> command = new ArrayList<>(launcher);
    command.addAll(List.of(java, "--enable-native-access=ALL-UNNAMED"));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command)
        .directory(workingDir.toFile())
        .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().keySet().removeIf(k -> k.startsWith("WIMG_"));
    Process process = builder.start();
    CompletableFuture<String> ready = new CompletableFuture<>();
    Thread.ofPlatform().daemon().name("child-stdout-" + process.pid()).start(() -> {
      // Drains stdout for the child's whole life, so it never blocks on a full pipe. A platform
      // thread: a virtual one here missed a restarted tracker's ready line that sat unread in the
      // pipe (48 bytes by FIONREAD) while the thread showed in readBytes (DistributionProcessesTest
      // with 256 MiB files, 4 runs of 4; with a platform thread it passes).
      try (BufferedReader out = process.inputReader()) {
        for (String line; (line = out.readLine()) != null; ) {
          if (line.startsWith("wimg ") && line.contains(LISTENING)) {
            ready.complete(line);
          }
        }
        ready.completeExceptionally(new IOException("child exited without listening"));
      } catch (IOException e) {
        ready.completeExceptionally(e);
      }
    });
    String line;
    try {
      line = ready.get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      process.destroyForcibly().waitFor();
      throw new AssertionError("child server did not start: " + e + "\n" + tail(log), e);
    }
    int end = line.indexOf(" (data: ");
    int from = line.indexOf(LISTENING) + LISTENING.length();
    URI url = URI.create(line.substring(from, end < 0 ? line.length() : end));
    return new ChildServer(process, url, log);
  }

  URI url() {
    return url;
  }

  /** The child JVM's process id. */
  long pid() {
    return process.pid();
  }

  /**
   * SIGKILL (on Linux, {@link Process#destroyForcibly} is {@code kill -9}), then waits until the
   * operating system has reaped the process.
   *
   * @return the exit status: 137 (128 + 9) for a process killed by SIGKILL
   */
  int kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
    return process.exitValue();
  }

  /** SIGTERM, so the shutdown hook closes the server; waits for the exit and returns its status. */
  int stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      throw new AssertionError("child server ignored SIGTERM for 60 s\n" + tail(log));
    }
    return process.exitValue();
  }

  boolean isAlive() {
    return ProcessHandle.of(process.pid()).map(ProcessHandle::isAlive).orElse(false);
  }

  /** The end of the child's stderr, for assertion messages. */
  String logTail() {
    return tail(log);
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return "--- " + log + " (last lines)\n"
          + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }
}
