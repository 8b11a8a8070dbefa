package dev.wimg.cli;

import dev.wimg.cli.internal.Environment;
import dev.wimg.cli.internal.WimgCommand;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;

/**
 * The {@code wimg} command line: {@code server}, {@code tracker}, {@code storage}, {@code upload},
 * {@code download}, {@code rm}, {@code verify}, {@code status}, {@code distribute}, {@code tasks}.
 * Run {@code wimg --help} for the options and exit codes.
 *
 * <p>Settings come from, highest first: command-line flags, environment variables
 * ({@code WIMG_PORT}, {@code WIMG_SERVER}, ...), a config file ({@code --config FILE}, else
 * {@code $WIMG_CONFIG}, else {@code ./wimg.properties} if present), then built-in defaults.
 */
public final class Main {

  private Main() {}

  /** Runs one command and exits the JVM with its {@link ExitCode}. */
  public static void main(String[] args) {
    int code = run(System.getenv(), Path.of("").toAbsolutePath(), System.out, System.err, args);
    System.exit(code);
  }

  /**
   * Runs one command in this JVM and returns its exit status; nothing here calls
   * {@link System#exit}, so tests run commands in-process.
   *
   * @param env        environment variables to read settings from
   * @param workingDir where {@code wimg.properties} is looked for
   * @param out        standard output: command results, downloaded bytes
   * @param err        standard error: messages, usage
   */
  public static int run(Map<String, String> env, Path workingDir, PrintStream out, PrintStream err,
                        String... args) {
    return WimgCommand.run(new Environment(env, workingDir, out, err), args);
  }
}
