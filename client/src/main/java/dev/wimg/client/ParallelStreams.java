package dev.wimg.client;

import dev.wimg.transfer.BulkConnection;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs a transfer's streams at once; what {@link ParallelUpload} and {@link ParallelDownload}
 * share. Platform threads (daemons), not virtual ones: each stream waits in a {@link
 * java.nio.channels.Selector} of its own ({@link BulkConnection}), which would hold a virtual
 * thread's carrier anyway, and there are only a few streams.
 */
final class ParallelStreams {

  private ParallelStreams() {}

  /**
   * Runs {@code stream} on {@code streams} threads and waits for all; the first failure stops the
   * others and is thrown.
   *
   * @param what the transfer, for the message of an interruption
   */
  static void run(int streams, String threadName, String what, Callable<Void> stream) throws IOException {
    try (ExecutorService pool = Executors.newFixedThreadPool(streams,
        Thread.ofPlatform().daemon().name(threadName, 0).factory())) {
      List<Future<Void>> running = new ArrayList<>();
      for (int i = 0; i < streams; i++) {
        running.add(pool.submit(stream));
      }
      for (Future<Void> f : running) {
        try {
          f.get();
        } catch (ExecutionException e) {
          pool.shutdownNow();
          throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (InterruptedException e) {
          pool.shutdownNow();
          Thread.currentThread().interrupt();
          throw new InterruptedIOException(what + " interrupted");
        }
      }
    }
  }
}
