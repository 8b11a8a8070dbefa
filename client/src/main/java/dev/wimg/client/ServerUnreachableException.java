package dev.wimg.client;

import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Objects;

/**
 * No server could take the request.
 *
 * <p>A client of one server throws it when no connection could be made: nothing listens at the
 * address, the host name does not resolve, or the connect timed out. Nothing was sent, so the
 * request may be retried.
 *
 * <p>A client of several servers throws it when every one of them failed in a way that made it
 * move on to the next (see {@link WimgClient}): no connection, or an answer {@code 502},
 * {@code 503} or {@code 504}, which means the request was not carried out (an upload was not
 * acknowledged). {@link #attempts()} lists each server tried, in order, and why it failed; the
 * message names them all.
 */
public class ServerUnreachableException extends IOException {

  private final List<Attempt> attempts;

  /** One server that could not be connected to, for the reason given (e.g. "connection refused"). */
  public ServerUnreachableException(URI server, String reason, Throwable cause) {
    this(List.of(new Attempt(server, reason)), cause);
  }

  /**
   * Every server of a list failed.
   *
   * @param attempts each server tried and why it failed, in the order tried; not empty
   * @param cause    the last failure
   */
  public ServerUnreachableException(List<Attempt> attempts, Throwable cause) {
    super(message(attempts), cause);
    this.attempts = List.copyOf(attempts);
  }

  /** The server URL tried last (the only one, for a client of one server). */
  public URI server() {
    return attempts.getLast().server();
  }

  /** Each server tried and why it failed, in the order tried. */
  public List<Attempt> attempts() {
    return attempts;
  }

  private static String message(List<Attempt> attempts) {
    if (attempts.isEmpty()) {
      throw new IllegalArgumentException("attempts must not be empty");
    }
    if (attempts.size() == 1) {
      Attempt a = attempts.getFirst();
      return "cannot reach the WIMG server at " + a.server() + ": " + a.reason();
    }
    StringBuilder b = new StringBuilder("cannot reach any of " + attempts.size() + " WIMG servers: ");
    for (int i = 0; i < attempts.size(); i++) {
      Attempt a = attempts.get(i);
      b.append(i == 0 ? "" : "; ").append(a.server()).append(": ").append(a.reason());
    }
    return b.toString();
  }

  /**
   * One server tried.
   *
   * @param server the base URL tried
   * @param reason why it failed, for people: {@code connection refused}, {@code unknown host},
   *     {@code connect timed out}, the server's error with its status, or either of these after
   *     {@code redirected to <url>}
   */
  public record Attempt(URI server, String reason) {
    public Attempt {
      Objects.requireNonNull(server, "server");
      Objects.requireNonNull(reason, "reason");
    }
  }
}
