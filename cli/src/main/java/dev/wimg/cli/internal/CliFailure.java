package dev.wimg.cli.internal;

import dev.wimg.cli.ExitCode;
import dev.wimg.client.ServerUnreachableException;
import dev.wimg.client.WimgException;
import dev.wimg.server.CorruptDataException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Objects;

/**
 * A command failed in a way the user can act on: the message is printed after the command's name
 * on stderr (without a stack trace unless asked for) and the process exits with {@link #exitCode()}.
 */
public final class CliFailure extends RuntimeException {

  private final ExitCode exitCode;
  private final boolean expected;

  public CliFailure(ExitCode exitCode, String message) {
    this(exitCode, message, null, true);
  }

  /** An expected failure explaining {@code cause}, whose stack trace {@code --verbose} shows. */
  public CliFailure(ExitCode exitCode, String message, Throwable cause) {
    this(exitCode, message, cause, true);
  }

  private CliFailure(ExitCode exitCode, String message, Throwable cause, boolean expected) {
    super(message, cause);
    this.exitCode = Objects.requireNonNull(exitCode, "exitCode");
    this.expected = expected;
  }

  /** The failure a command reports for {@code cause}, its message prefixed by {@code context}. */
  public static CliFailure of(String context, Throwable cause) {
    CliFailure f = of(cause);
    return new CliFailure(f.exitCode, context + ": " + f.getMessage(), f.getCause(), f.expected);
  }

  /**
   * Maps an exception to an exit code and a message for people: server answers by status, the
   * unreachable server with a hint, local file errors by path. Anything else is unexpected: it
   * maps to {@link ExitCode#FAILURE} and {@link #expected()} is false.
   */
  public static CliFailure of(Throwable cause) {
    return switch (cause) {
      case CliFailure f -> f;
      case ServerUnreachableException e -> new CliFailure(ExitCode.UNREACHABLE, e.getMessage()
          + (e.attempts().size() == 1 ? " (is `wimg server` running there?" : " (are they running?")
          + " Point elsewhere with --server or WIMG_SERVER)", e, true);
      case WimgException e when e.status() == 404 -> new CliFailure(ExitCode.NOT_FOUND, e.getMessage(), e, true);
      case WimgException e when e.status() == 401 || e.status() == 403 -> new CliFailure(ExitCode.SERVER_ERROR,
          e.getMessage() + " (give the server's write key with --key or WIMG_WRITE_KEY)", e, true);
      case WimgException e -> new CliFailure(ExitCode.SERVER_ERROR, e.getMessage(), e, true);
      case CorruptDataException e -> new CliFailure(ExitCode.CORRUPT, e.getMessage(), e, true);
      case NoSuchFileException e -> new CliFailure(ExitCode.FAILURE, "no such file: " + e.getFile(), e, true);
      case AccessDeniedException e -> new CliFailure(ExitCode.FAILURE, "permission denied: " + e.getFile(), e, true);
      case FileSystemException e -> new CliFailure(ExitCode.FAILURE, e.getMessage(), e, true);
      case IOException e -> new CliFailure(ExitCode.FAILURE,
          e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage(), e, true);
      default -> new CliFailure(ExitCode.FAILURE, "unexpected error: " + cause, cause, false);
    };
  }

  public ExitCode exitCode() {
    return exitCode;
  }

  /** False for a failure nobody planned for (a bug): the user is told how to get the stack trace. */
  public boolean expected() {
    return expected;
  }
}
