package dev.wimg.client;

import java.io.IOException;

/**
 * The server answered a request with an error status. The server's errors are JSON
 * {@code {"error": "...", "status": N}}; {@link #serverMessage()} is its {@code error} text, or, for
 * an answer that is not such JSON (a proxy's error page, say), a short description of it.
 */
public class WimgException extends IOException {

  private final int status;
  private final String serverMessage;

  public WimgException(int status, String message) {
    super(message + " (HTTP " + status + ")");
    this.status = status;
    this.serverMessage = message;
  }

  /** The HTTP status code, e.g. 404. */
  public int status() {
    return status;
  }

  /** The server's explanation, without the status. */
  public String serverMessage() {
    return serverMessage;
  }
}
