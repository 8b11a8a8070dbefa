package dev.wimg.server;

import dev.wimg.imaging.ImageEngine;
import dev.wimg.imaging.ImageEngines;
import dev.wimg.imaging.ImageInfo;
import dev.wimg.imaging.Limits;
import dev.wimg.imaging.TransformResult;
import dev.wimg.imaging.TransformSpec;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The real pure-Java engine behind a gate: counts the transforms that reach the engine, and when
 * closed holds them until {@link #open()}, so tests can fill the worker pool and its queue.
 */
final class GatedEngine implements ImageEngine {

  private final ImageEngine engine = ImageEngines.java(Limits.defaults());
  private final AtomicInteger calls = new AtomicInteger();
  private volatile CountDownLatch gate = new CountDownLatch(0);

  /** Holds every transform from now on until {@link #open()}. */
  GatedEngine close() {
    gate = new CountDownLatch(1);
    return this;
  }

  void open() {
    gate.countDown();
  }

  /** Transforms that reached the engine (held ones included). */
  int calls() {
    return calls.get();
  }

  @Override
  public TransformResult transform(ByteBuffer source, TransformSpec spec, String acceptHeader) {
    calls.incrementAndGet();
    try {
      if (!gate.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the test never opened the gate");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    return engine.transform(source, spec, acceptHeader);
  }

  @Override
  public ImageInfo probe(ByteBuffer source) {
    return engine.probe(source);
  }

  @Override
  public String name() {
    return engine.name();
  }

  @Override
  public Set<String> outputFormats() {
    return engine.outputFormats();
  }
}
