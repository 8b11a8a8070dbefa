package dev.wimg.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * One {@code wimg} command run in this JVM through {@link Main#run}, as a shell would run it:
 * given environment variables and working folder, stdout captured as bytes, stderr as text.
 */
record CliRun(int exitCode, byte[] stdout, String stderr) {

  static CliRun run(Map<String, String> env, Path workingDir, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
         PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = Main.run(env, workingDir, o, e, args);
    }
    return new CliRun(code, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
  }

  /**
   * Runs a command whose stdout fails every write, as {@code > /dev/full} does; what the command
   * printed is lost, so {@link #stdout()} is empty.
   */
  static CliRun runWithBrokenStdout(Map<String, String> env, Path workingDir, String... args) {
    OutputStream full = new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        throw new IOException("No space left on device");
      }
    };
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try (PrintStream o = new PrintStream(full, true, StandardCharsets.UTF_8);
         PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = Main.run(env, workingDir, o, e, args);
    }
    return new CliRun(code, new byte[0], err.toString(StandardCharsets.UTF_8));
  }

  String out() {
    return new String(stdout, StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "exit " + exitCode + "\n--- stdout\n" + out() + "--- stderr\n" + stderr;
  }
}
