package dev.wimg.client;

import java.io.IOException;
import java.net.URI;

/**
 * No connection could be made to the server: nothing listens at the address, the host name does
 * not resolve, or the connect timed out. Nothing was sent, so the request may be retried.
 */
public class ServerUnreachableException extends IOException {

  private final URI server;

  public ServerUnreachableException(URI server, String reason, Throwable cause) {
    super("cannot reach the WIMG server at " + server + ": " + reason, cause);
    this.server = server;
  }

  /** The server URL that was tried. */
  public URI server() {
    return server;
  }
}
