package dev.wimg.cli.internal;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * What a command may touch of the world it runs in, passed in rather than read from globals so
 * that tests run commands in-process with their own streams and variables.
 *
 * @param variables  environment variables
 * @param workingDir folder searched for {@value ConfigDefaults#DEFAULT_FILE_NAME}
 * @param out        command output (text and downloaded bytes)
 * @param err        messages and usage
 */
public record Environment(Map<String, String> variables, Path workingDir, PrintStream out,
                          PrintStream err) {

  public Environment {
    variables = Map.copyOf(Objects.requireNonNull(variables, "variables"));
    Objects.requireNonNull(workingDir, "workingDir");
    Objects.requireNonNull(out, "out");
    Objects.requireNonNull(err, "err");
  }

  /**
   * Why a write to stdout failed, for the message after {@code cannot write to stdout: }. A
   * {@link PrintStream} keeps only the fact that a write failed, not the cause.
   */
  public static final String STDOUT_LOST = "a write failed (disk full, or the reader closed the pipe?)";

  /**
   * Flushes {@link #out()} and reports whether everything written to it so far arrived. A
   * {@link PrintStream} swallows write errors (a full disk behind {@code >}, a closed pipe), so a
   * command that prints results checks this before it claims success.
   */
  public boolean outputLost() {
    out.flush();
    return out.checkError();
  }

  /** Whether {@code WIMG_DEBUG} asks for stack traces (set and not {@code 0} or {@code false}). */
  public boolean debug() {
    String v = variables.get("WIMG_DEBUG");
    return v != null && !v.isBlank() && !v.equals("0") && !v.equalsIgnoreCase("false");
  }
}
