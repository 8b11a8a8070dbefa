package dev.wimg.server.internal.http;

import io.netty.handler.codec.http.HttpContent;

/**
 * Receives the body of a request whose head was accepted, chunk by chunk, on the event loop.
 * Exactly one of {@link #finish()} or {@link #abort()} ends it, unless {@link #add} returned false.
 */
public interface BodySink {

  /**
   * Takes ownership of {@code content}. Returns false if the body was refused (the sink then
   * answered with an error, released everything it held, and wants no more content).
   */
  boolean add(HttpContent content);

  /** The whole body arrived: act on it and answer. */
  void finish();

  /** The connection is gone: release what is held. */
  void abort();

  /**
   * Whether the sink wants no more content for now (its buffers are full while it writes): the
   * connection then reads nothing, and no body deadline runs, until it calls {@link
   * Exchange#resumeBody()}. Asked after each {@link #add} that returned true.
   */
  default boolean paused() {
    return false;
  }
}
