package dev.wimg.server.internal.http;

import java.io.IOException;

/**
 * A write or delete this node cannot acknowledge now for a reason another node may not share (for
 * example too few members of its group hold it): answered {@code 503} with {@code Retry-After}, so
 * that a tracker or client sends it elsewhere. Never a fault of the request.
 */
public class UnavailableException extends IOException {

  public UnavailableException(String message) {
    super(message);
  }
}
