package dev.wimg.server.internal.http;

import java.time.Duration;

/**
 * Limits of the HTTP layer that are engineering constants rather than user configuration. The
 * server uses {@link #defaults()}; tests shrink individual limits to reach them cheaply.
 *
 * @param ioThreads            event-loop threads; they never block
 * @param readThreads          threads of the blocking pool that serves reads of pages not in memory
 *                             (they page-fault), {@code /status} and {@code /metrics}
 * @param readQueue            tasks waiting for a blocking-pool thread before requests get 503
 * @param uploadBudgetBytes    bytes of request bodies held in memory by all uploads together; an
 *                             upload that would exceed it gets 503 with Retry-After
 * @param minBodyBytesPerSecond slowest average body rate accepted after the idle-timeout grace,
 *                             bytes per second; slower bodies get 408 and the connection closes
 * @param shutdownGrace        how long {@code close()} waits for in-flight requests
 * @param lingerOnClose        how long a connection closed with an unread request body keeps
 *                             draining input so the client can read the error response
 * @param residentReadsInline  serve reads of needles whose pages are in memory on the event loop
 *                             (true, the default); false sends every read to the blocking pool
 * @param transformThreads     workers of the picture transform pool; transforms are CPU-bound,
 *                             so one per core
 */
public record ServerTuning(int ioThreads, int readThreads, int readQueue, long uploadBudgetBytes,
                           long minBodyBytesPerSecond, Duration shutdownGrace, Duration lingerOnClose,
                           boolean residentReadsInline, int transformThreads) {

  /** In-flight upload memory budget: 256 MiB. Four concurrent 64 MiB uploads fit. */
  public static final long DEFAULT_UPLOAD_BUDGET_BYTES = 256L << 20;
  /** Blocking-pool threads: page faults are latency-bound, not CPU-bound, so more than cores. */
  public static final int DEFAULT_READ_THREADS = 32;
  /** Blocking-pool queue length, tasks. */
  public static final int DEFAULT_READ_QUEUE = 4096;
  /** Minimum body rate: 4 KiB/s (32 kbit/s), a very poor mobile link. */
  public static final long DEFAULT_MIN_BODY_BYTES_PER_SECOND = 4096;
  /** Grace period of close() for in-flight requests. */
  public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(2);
  /** Lingering close: 2 s of draining, like Apache httpd's lingering close. */
  public static final Duration DEFAULT_LINGER_ON_CLOSE = Duration.ofSeconds(2);

  public ServerTuning {
    if (ioThreads < 1) {
      throw new IllegalArgumentException("ioThreads must be >= 1, got " + ioThreads);
    }
    if (readThreads < 1) {
      throw new IllegalArgumentException("readThreads must be >= 1, got " + readThreads);
    }
    if (readQueue < 1) {
      throw new IllegalArgumentException("readQueue must be >= 1, got " + readQueue);
    }
    if (transformThreads < 1) {
      throw new IllegalArgumentException("transformThreads must be >= 1, got " + transformThreads);
    }
    if (uploadBudgetBytes < 0) {
      throw new IllegalArgumentException("uploadBudgetBytes must be >= 0, got " + uploadBudgetBytes);
    }
    if (minBodyBytesPerSecond < 1) {
      throw new IllegalArgumentException("minBodyBytesPerSecond must be >= 1, got " + minBodyBytesPerSecond);
    }
  }

  public static ServerTuning defaults() {
    return new ServerTuning(Runtime.getRuntime().availableProcessors(), DEFAULT_READ_THREADS,
        DEFAULT_READ_QUEUE, DEFAULT_UPLOAD_BUDGET_BYTES, DEFAULT_MIN_BODY_BYTES_PER_SECOND,
        DEFAULT_SHUTDOWN_GRACE, DEFAULT_LINGER_ON_CLOSE, true,
        Runtime.getRuntime().availableProcessors());
  }

  public ServerTuning withUploadBudgetBytes(long bytes) {
    return new ServerTuning(ioThreads, readThreads, readQueue, bytes, minBodyBytesPerSecond,
        shutdownGrace, lingerOnClose, residentReadsInline, transformThreads);
  }

  public ServerTuning withMinBodyBytesPerSecond(long rate) {
    return new ServerTuning(ioThreads, readThreads, readQueue, uploadBudgetBytes, rate,
        shutdownGrace, lingerOnClose, residentReadsInline, transformThreads);
  }

  public ServerTuning withResidentReadsInline(boolean inline) {
    return new ServerTuning(ioThreads, readThreads, readQueue, uploadBudgetBytes, minBodyBytesPerSecond,
        shutdownGrace, lingerOnClose, inline, transformThreads);
  }

  public ServerTuning withReadPool(int threads, int queue) {
    return new ServerTuning(ioThreads, threads, queue, uploadBudgetBytes, minBodyBytesPerSecond,
        shutdownGrace, lingerOnClose, residentReadsInline, transformThreads);
  }

  public ServerTuning withTransformThreads(int threads) {
    return new ServerTuning(ioThreads, readThreads, readQueue, uploadBudgetBytes, minBodyBytesPerSecond,
        shutdownGrace, lingerOnClose, residentReadsInline, threads);
  }
}
