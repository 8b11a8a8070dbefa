package dev.wimg.server.internal.transform;

import dev.wimg.server.internal.derived.TransformKey;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The transform workers: a pool of {@code threads} with a bounded queue, and single-flight per
 * {@link TransformKey}, so that concurrent requests for the same derived picture share one
 * computation.
 *
 * <p>A job that finds the queue full fails with {@link TransformService.Busy} at once, so memory
 * is bounded: a queued job holds only what its closure holds (its original's mapped view), a
 * running one its output. Worker threads are daemons and time out when idle.
 */
final class TransformPool implements AutoCloseable {

  /** How long close() waits for running jobs, seconds. */
  private static final long SHUTDOWN_SECONDS = 5;
  /** How long an idle worker lives, seconds. */
  private static final long KEEP_ALIVE_SECONDS = 60;

  private final int threads;
  private final int queueLength;
  private final ThreadPoolExecutor pool;
  private final ConcurrentHashMap<TransformKey, CompletableFuture<TransformService.Rendition>> inFlight =
      new ConcurrentHashMap<>();

  TransformPool(int threads, int queueLength) {
    this.threads = threads;
    this.queueLength = queueLength;
    this.pool = new ThreadPoolExecutor(threads, threads, KEEP_ALIVE_SECONDS, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(queueLength), new DefaultThreadFactory("wimg-transform", true));
    this.pool.allowCoreThreadTimeOut(true);
  }

  /**
   * The result of {@code job} for {@code key}: the computation already in flight for the key, else
   * a new one on a worker.
   *
   * <p>On a worker, {@code job} computes the result and may publish it (to a cache) before it is
   * released: the key leaves the in-flight set only after {@code job} returned, so a request for
   * the same key finds either the flight or what {@code job} published. {@code afterAnswer} then
   * runs on the worker once the result was handed to the waiting requests, for work they need not
   * wait for; what it throws is its own to handle.
   *
   * @return completes with the result, or exceptionally with {@link TransformService.Busy} (queue
   *     full) or whatever {@code job} threw
   */
  CompletableFuture<TransformService.Rendition> submit(TransformKey key, Supplier<TransformService.Rendition> job,
                                                       Consumer<TransformService.Rendition> afterAnswer) {
    CompletableFuture<TransformService.Rendition> mine = new CompletableFuture<>();
    CompletableFuture<TransformService.Rendition> running = inFlight.putIfAbsent(key, mine);
    if (running != null) {
      return running;
    }
    try {
      pool.execute(() -> run(key, job, afterAnswer, mine));
    } catch (RejectedExecutionException e) {
      inFlight.remove(key, mine);
      mine.completeExceptionally(new TransformService.Busy("too many transforms waiting (queue of " + queueLength
          + "); retry later"));
    }
    return mine;
  }

  private void run(TransformKey key, Supplier<TransformService.Rendition> job,
                   Consumer<TransformService.Rendition> afterAnswer, CompletableFuture<TransformService.Rendition> mine) {
    TransformService.Rendition rendition;
    try {
      rendition = job.get();
    } catch (RuntimeException | Error e) {
      inFlight.remove(key, mine);
      mine.completeExceptionally(e);
      return;
    }
    inFlight.remove(key, mine);
    mine.complete(rendition);
    afterAnswer.accept(rendition);
  }

  /** Workers. */
  int threads() {
    return threads;
  }

  /** Jobs the queue holds at most. */
  int queueLength() {
    return queueLength;
  }

  /** Jobs waiting for a worker now. */
  int queued() {
    return pool.getQueue().size();
  }

  /** Stops taking jobs and waits briefly for the running ones; interrupts them past the wait. */
  @Override
  public void close() {
    pool.shutdown();
    try {
      if (!pool.awaitTermination(SHUTDOWN_SECONDS, TimeUnit.SECONDS)) {
        pool.shutdownNow();
      }
    } catch (InterruptedException e) {
      pool.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
