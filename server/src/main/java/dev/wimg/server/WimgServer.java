package dev.wimg.server;

import java.io.IOException;

/**
 * The all-in-one WIMG server: one storage node (and, later, a tracker) behind one HTTP port.
 * Started by {@code wimg server}; tests start it on port 0.
 */
public final class WimgServer implements AutoCloseable {

  private WimgServer() {}

  /**
   * Opens the store, binds the port and starts serving. Returns once the port accepts connections.
   *
   * @throws IllegalArgumentException if the configuration is unsafe (e.g. a public bind address
   *     without a write key)
   * @throws IOException if the store cannot be opened or the port cannot be bound
   */
  public static WimgServer start(ServerConfig config) throws IOException {
    throw new UnsupportedOperationException("server not written yet");
  }

  /** The bound TCP port (the real one when the configuration asked for 0). */
  public int port() {
    throw new UnsupportedOperationException("server not written yet");
  }

  /** Blocks until {@link #close()} is called or the server stops. */
  public void awaitTermination() throws InterruptedException {
    throw new UnsupportedOperationException("server not written yet");
  }

  /** Stops accepting, finishes in-flight requests briefly, closes the store. Idempotent. */
  @Override
  public void close() {
    throw new UnsupportedOperationException("server not written yet");
  }
}
