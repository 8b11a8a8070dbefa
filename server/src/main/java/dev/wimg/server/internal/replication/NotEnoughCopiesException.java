package dev.wimg.server.internal.replication;

import dev.wimg.server.internal.http.UnavailableException;

/**
 * A write or delete that fewer members made durable than it needs ({@code --copies}): not
 * acknowledged. Answered 503, so that a tracker or client sends the upload to another group.
 */
public final class NotEnoughCopiesException extends UnavailableException {

  public NotEnoughCopiesException(String message) {
    super(message);
  }
}
