package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Fails a test class if Netty reported a leaked buffer while it ran. The surefire configuration
 * sets {@code -Dio.netty.leakDetection.level=paranoid}, so every buffer is tracked.
 *
 * <p>Netty reports a leak when a tracked buffer was garbage-collected unreleased and a later
 * allocation polls the detector's queue; after the class, this forces a few collections and
 * allocations so that leaks of the class are reported before the check.
 */
final class NettyLeakCheck implements BeforeAllCallback, AfterAllCallback {

  private static final String STORE_KEY = "leaks";

  @Override
  public void beforeAll(ExtensionContext context) {
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    detectorLogger().addAppender(appender);
    context.getStore(ExtensionContext.Namespace.GLOBAL).put(STORE_KEY, appender);
  }

  @Override
  public void afterAll(ExtensionContext context) throws InterruptedException {
    @SuppressWarnings("unchecked")
    ListAppender<ILoggingEvent> appender =
        (ListAppender<ILoggingEvent>) context.getStore(ExtensionContext.Namespace.GLOBAL).get(STORE_KEY);
    assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
    for (int round = 0; round < 3; round++) {
      // A canary enqueued means this collection's references were processed, leaked buffers' too.
      ReferenceQueue<Object> queue = new ReferenceQueue<>();
      PhantomReference<Object> canary = new PhantomReference<>(new Object(), queue);
      System.gc();
      queue.remove(2_000);
      Reference.reachabilityFence(canary);
      for (int i = 0; i < 64; i++) {
        ByteBuf probe = PooledByteBufAllocator.DEFAULT.directBuffer(16);
        probe.release();
      }
    }
    detectorLogger().detachAppender(appender);
    assertThat(appender.list).extracting(ILoggingEvent::getFormattedMessage)
        .filteredOn(message -> message.contains("LEAK"))
        .isEmpty();
  }

  private static Logger detectorLogger() {
    return (Logger) LoggerFactory.getLogger(ResourceLeakDetector.class);
  }
}
