package dev.wimg.server.internal.transform;

import dev.wimg.imaging.ImageEngine;
import dev.wimg.imaging.Limits;
import dev.wimg.imaging.NativeMemory;
import dev.wimg.imaging.Presets;
import dev.wimg.imaging.TransformResult;
import dev.wimg.imaging.TransformSpec;
import dev.wimg.protocol.Fid;
import dev.wimg.server.ImagingConfig;
import dev.wimg.server.internal.derived.DerivedIndex;
import dev.wimg.server.internal.derived.DerivedPictures;
import dev.wimg.server.internal.derived.TransformKey;
import dev.wimg.storage.Store;
import dev.wimg.storage.StoredFile;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picture transforms and the derived pictures they produce: what the transform handler and
 * {@code /status} talk to. It ties together the parts that each do one job:
 *
 * <pre>
 *   TransformQuery, TransformSpec   query syntax, grammar, presets, limits (parsed here, counted)
 *   UrlSigner                       signed URLs
 *   RenditionCache                  the hot set in memory, and the URLs that resolved to it
 *   TransformPool                   the workers, their bounded queue, single-flight per key
 *   DerivedPictures                 derived pictures saved as needles of {@code <data>/derived}
 * </pre>
 *
 * <p>A result is looked up in memory, else joins the computation in flight for its key, else is
 * computed on the pool ({@link Busy} when the queue is full). After answering, the worker saves
 * the output as a derived picture; past {@link ImagingConfig#derivedCapBytes()} the least recently
 * used ones are deleted.
 *
 * <p>Deleting an original deletes its derived pictures: before its tombstone (a crash in between
 * leaves an original without derivatives, never derivatives of a deleted original) and again
 * after (a transform that finished meanwhile). A worker that links a derivative checks afterwards
 * that the original still exists, which closes the remaining race.
 */
public final class TransformService implements Closeable {

  private static final Logger log = LoggerFactory.getLogger(TransformService.class);

  /**
   * An encoded derived picture held in memory. The bytes are kept in a direct buffer: a heap
   * buffer would be copied into a direct one by the transport on every response that sends it.
   */
  public record Rendition(ByteBuffer data, String mime, String etag) {

    public Rendition {
      if (!data.isDirect()) {
        data = ByteBuffer.allocateDirect(data.remaining()).put(data.duplicate()).flip();
      }
      data = data.asReadOnlyBuffer();
    }
  }

  /** The transform queue is full: answer 503 with Retry-After. */
  public static final class Busy extends RuntimeException {

    Busy(String message) {
      super(message, null, false, false);
    }
  }

  /** The body of {@code imaging} in {@code /status}. */
  public record Status(String engine, List<String> outputFormats, int workers, int queueLength, int queued,
                       long transforms, boolean presetsOnly, boolean signedUrls, CacheStatus cache,
                       DerivedStatus derived, NativeMemory nativeMemory) {}

  /**
   * @param entries  results held in memory
   * @param bytes    their weight, bytes
   * @param capBytes the cache's bound, bytes
   * @param hits     requests answered from memory
   * @param urls     request URLs remembered with the key they resolved to, at most
   *                 {@value UrlKeyCache#MAX_ENTRIES}
   * @param urlHits  requests whose URL was remembered and whose result was in memory: answered
   *                 without parsing the query
   * @param parses   transform queries parsed and checked against the grammar (URL not
   *                 remembered, or its result no longer in memory)
   */
  public record CacheStatus(long entries, long bytes, long capBytes, long hits, long urls, long urlHits,
                            long parses) {}

  /**
   * @param count    derived pictures on disk
   * @param bytes    their size, bytes
   * @param capBytes the bound, bytes; past it the least recently used are deleted
   * @param hits     requests answered from a derived picture on disk
   * @param misses   requests that computed a transform (or joined one in flight)
   */
  public record DerivedStatus(int count, long bytes, long capBytes, long hits, long misses) {}

  private final ImagingConfig config;
  private final ImageEngine engine;
  private final Presets presets;
  private final Limits limits;
  private final UrlSigner signer;
  private final Store originals;
  private final DerivedPictures derived;
  private final TransformPool pool;
  private final RenditionCache cache;
  private final LongAdder transforms = new LongAdder();
  private final LongAdder parses = new LongAdder();
  private final LongAdder derivedHits = new LongAdder();
  private final LongAdder misses = new LongAdder();

  private TransformService(ImagingConfig config, ImageEngine engine, Presets presets, Store originals,
                           DerivedPictures derived, int threads) {
    this.config = config;
    this.engine = engine;
    this.presets = presets;
    this.limits = config.limits();
    this.signer = new UrlSigner(config.signingKeys());
    this.originals = originals;
    this.derived = derived;
    this.cache = new RenditionCache(config.cacheBytes(), engine.outputFormats());
    this.pool = new TransformPool(threads, config.queueLength());
  }

  /**
   * Checks the presets, opens the derived pictures beside the originals ({@link DerivedPictures#open}).
   *
   * @param threads transform workers, normally one per core
   * @throws IllegalArgumentException naming a bad preset
   */
  public static TransformService open(ImagingConfig config, Store originals, ImageEngine engine, int threads)
      throws IOException {
    Presets presets = Presets.of(config.presets(), config.presetsOnly(), config.limits());
    DerivedPictures derived = DerivedPictures.open(originals.config());
    try {
      return new TransformService(config, engine, presets, originals, derived, threads);
    } catch (RuntimeException e) {
      derived.close();
      throw e;
    }
  }

  public ImageEngine engine() {
    return engine;
  }

  public Presets presets() {
    return presets;
  }

  public Limits limits() {
    return limits;
  }

  public UrlSigner signer() {
    return signer;
  }

  /** The store of derived pictures. */
  public Store derivedStore() {
    return derived.store();
  }

  /** The result of {@code key} if it is in memory, else null. */
  public Rendition cached(TransformKey key) {
    return cache.get(key);
  }

  /**
   * The result for a request URL seen before, if it is in memory, with the key it resolved to;
   * else null. See {@link UrlKeyCache} for why a remembered URL needs no new checks.
   *
   * @param path   the request path exactly as received
   * @param query  the raw query exactly as received
   * @param accept the request's {@code Accept}, or null
   */
  Remembered rememberedResult(String path, String query, String accept) {
    return cache.remembered(path, query, accept);
  }

  /** A result found by its request URL. */
  record Remembered(TransformKey key, Rendition rendition) {}

  /** Remembers that a URL which passed every check resolved to {@code key}. */
  void rememberUrl(String path, String query, TransformKey key) {
    cache.rememberUrl(path, query, key);
  }

  /** Parses a query's transform parameters against the grammar, limits and presets. */
  TransformSpec parse(TransformQuery query) {
    parses.increment();
    return TransformSpec.parse(query.parameters(), presets, limits);
  }

  /** The derived picture of {@code key} on disk, marked most recently used, or null. */
  DerivedIndex.Link derivedLink(TransformKey key) {
    return derived.lookup(key);
  }

  /** Counts a request answered from a derived picture on disk. */
  public void countDerivedHit() {
    derivedHits.increment();
  }

  /** Forgets a link whose needle was found gone (deleted under it): the next request recomputes. */
  void forget(DerivedIndex.Link link) {
    derived.forget(link);
  }

  /**
   * The result of {@code spec} on {@code original}: from memory, else from a computation already
   * in flight for the same key, else a new one on the worker pool.
   *
   * @return completes with the result, or exceptionally with {@link Busy} (queue full), an
   *     {@link dev.wimg.imaging.ImageRequestException} (a request the engine refuses) or another
   *     exception (a bug, a native failure)
   */
  public CompletableFuture<Rendition> render(TransformKey key, TransformSpec spec, StoredFile original,
                                             String accept) {
    Rendition hit = cached(key);
    if (hit != null) {
      return CompletableFuture.completedFuture(hit);
    }
    misses.increment();
    return pool.submit(key, () -> compute(key, spec, original, accept),
        rendition -> persist(key, original, rendition));
  }

  /** Runs the engine and keeps the result in memory before it is answered. Runs on the worker. */
  private Rendition compute(TransformKey key, TransformSpec spec, StoredFile original, String accept) {
    transforms.increment();
    TransformResult out = engine.transform(original.data(), spec, accept);
    Rendition rendition = new Rendition(out.data(), out.mime(), key.etag(original.checksum()));
    cache.put(key, rendition);
    return rendition;
  }

  /**
   * Saves a result as a derived picture; if its original was deleted meanwhile, deletes the
   * original's derivatives again. Runs on the worker, after the answer. A failure is logged: the
   * picture stays computable.
   */
  private void persist(TransformKey key, StoredFile original, Rendition rendition) {
    try {
      if (!derived.save(key, original.checksum(), rendition.data(), rendition.mime(), config.derivedCapBytes())) {
        return;
      }
      if (originals.read(key.original()) == null) {
        // Deleted while this transform ran: its cascade may have run before the link existed.
        cache.forgetOriginal(key.original());
        derived.dropOriginal(key.original());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | ExecutionException | RuntimeException e) {
      log.warn("saving the derived picture {} of {} failed; it stays computable", key.canonical(),
          key.original(), e);
    }
  }

  /**
   * Deletes an original and its derived pictures (see the class Javadoc for the order).
   *
   * @param blocking where the derived deletions (disk writes) run
   * @return as {@link Store#delete}
   */
  public CompletableFuture<Boolean> deleteOriginal(Fid original, Executor blocking) {
    return dropDerivatives(original, blocking)
        .thenCompose(none -> originals.delete(original))
        .thenCompose(deleted -> dropDerivatives(original, blocking).thenApply(none -> deleted));
  }

  /**
   * Drops the derived pictures of {@code original}, deleted by other means than {@link
   * #deleteOriginal} (a tombstone copied from the volume's writer in a cluster).
   */
  public CompletableFuture<Void> dropDerivatives(Fid original, Executor blocking) {
    cache.forgetOriginal(original);
    return derived.dropOriginal(original, blocking);
  }

  /** Figures for {@code /status}. */
  public Status status() {
    return new Status(engine.name(), engine.outputFormats().stream().sorted().toList(), pool.threads(),
        pool.queueLength(), pool.queued(), transforms.sum(), presets.presetsOnly(), signer.enabled(),
        cache.status(parses.sum()),
        new DerivedStatus(derived.count(), derived.bytes(), config.derivedCapBytes(), derivedHits.sum(),
            misses.sum()),
        engine.nativeMemory());
  }

  /** Transforms computed since start: the engine's calls. */
  public long transforms() {
    return transforms.sum();
  }

  /** Stops the workers (waiting briefly for running transforms), then closes the derived pictures. */
  @Override
  public void close() throws IOException {
    pool.close();
    derived.close();
  }
}
