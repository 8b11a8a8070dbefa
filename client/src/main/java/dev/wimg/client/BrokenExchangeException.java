package dev.wimg.client;

import java.io.IOException;

/**
 * The exchange broke after the request was sent: the connection closed or was reset before the
 * answer's headers arrived, or while a JSON answer was being read. No answer came, but the server
 * may have carried the request out, so {@link WimgClient} does not send it again (an upload or a
 * new distribution task could be made twice); a caller may repeat a read.
 *
 * <p>Unlike {@link ServerUnreachableException} (nothing was sent) and {@link WimgException} (the
 * server answered), it says nothing about whether the request took effect.
 */
public class BrokenExchangeException extends IOException {

  /**
   * @param message the request and why it broke, e.g. {@code "GET http://…/tasks failed: connection reset"}
   * @param cause   the failure of the connection, or null
   */
  public BrokenExchangeException(String message, Throwable cause) {
    super(message, cause);
  }
}
