package dev.wimg.cli;

/**
 * What {@code wimg} exits with. Scripts may rely on these numbers; they are listed in every
 * command's {@code --help}. Code 3 is taken by the {@code ./wimg} launcher (no JDK 25, or the build
 * failed), so the JVM never uses it.
 */
public enum ExitCode {
  /** Done as asked. */
  OK(0, "done"),
  /** A local failure: a file that cannot be read or written, an unexpected error. */
  FAILURE(1, "local I/O error or unexpected failure"),
  /** Bad command line, environment variable or config file value. */
  USAGE(2, "usage error: bad option, argument, environment variable or config value"),
  /** The server has no file with this fid (never existed, deleted, or wrong cookie). */
  NOT_FOUND(4, "no such file on the server"),
  /** The server answered with an error (bad request, refused write key, too large, 5xx). */
  SERVER_ERROR(5, "the server refused or failed the request"),
  /** No connection to the server could be made. */
  UNREACHABLE(6, "the server could not be reached"),
  /** {@code wimg verify} (or a read) found corrupt data. */
  CORRUPT(7, "verify found corrupt or inconsistent data"),
  /**
   * {@code wimg verify} found no problem but could not check every volume to its end: a running
   * server sealed or vacuumed it meanwhile. Running it again checks it.
   */
  INCOMPLETE(8, "verify found no problem, but a running server changed a volume while it was checked"),
  /**
   * {@code wimg distribute --wait}: the task ended and at least one target failed (each is named on
   * stderr with its reason); the others hold their copies.
   */
  TASK_FAILED(9, "distribute --wait: the task failed on at least one target");

  /** Exit status of the launcher {@code ./wimg} when it finds no JDK 25 or cannot build. */
  public static final int LAUNCHER_FAILED = 3;

  private final int code;
  private final String meaning;

  ExitCode(int code, String meaning) {
    this.code = code;
    this.meaning = meaning;
  }

  /** The process exit status. */
  public int code() {
    return code;
  }

  /** One line for {@code --help}. */
  public String meaning() {
    return meaning;
  }
}
