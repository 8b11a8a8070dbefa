package dev.wimg.server.internal.admin;

import dev.wimg.storage.StoreStats;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.codec.http.HttpMethod;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.ToDoubleFunction;

/**
 * The server's meters, exposed in Prometheus text format by {@code GET /metrics}.
 *
 * <p>Implementation notes: the per-request path allocates nothing. Request counters are created
 * once per (method, status) pair and kept in an array indexed by both, instead of being looked up
 * by tags in the registry; the latency timer is per method only, so that its cost does not
 * multiply by status codes. Store figures are gauges over plain fields that {@code /metrics}
 * refreshes from one {@link StoreStats} snapshot per scrape, off the event loop.
 *
 * <pre>
 *   wimg_http_requests_total{method,status}      responses sent
 *   wimg_http_request_duration_seconds{method}   request head received .. response written
 *   wimg_http_received_bytes_total               bytes read from clients
 *   wimg_http_sent_bytes_total                   bytes written to clients
 *   wimg_http_connections                        open connections
 *   wimg_upload_buffered_bytes                   upload bytes held in memory (the budget in use)
 *   wimg_store_volumes, wimg_store_needles, wimg_store_used_bytes, wimg_store_garbage_bytes,
 *   wimg_store_damaged_needles, wimg_store_free_bytes   the store, as of the last scrape
 *   wimg_store_read_errors                       reads that failed because a volume file could
 *                                                not be read (disk read error), since start
 *   wimg_store_volumes_needing_check             volumes with such read errors: check their disk
 *   wimg_imaging_native_memory_bytes,
 *   wimg_imaging_native_memory_high_water_bytes  libvips' pixel buffers now, and most at once
 * </pre>
 */
public final class ServerMetrics implements AutoCloseable {

  /** Method labels; everything else counts as {@code OTHER}. */
  private static final String[] METHODS = {"GET", "HEAD", "POST", "DELETE", "OTHER"};
  /** Status codes are 100..599; the array holds 600 per method to index them directly. */
  private static final int STATUS_SLOTS = 600;

  public static final int GET = 0;
  public static final int HEAD = 1;
  public static final int POST = 2;
  public static final int DELETE = 3;
  public static final int OTHER = 4;

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final AtomicReferenceArray<Counter> requests = new AtomicReferenceArray<>(METHODS.length * STATUS_SLOTS);
  private final Timer[] latency = new Timer[METHODS.length];
  private final Counter received;
  private final Counter sent;
  private final AtomicLong volumes = new AtomicLong();
  private final AtomicLong needles = new AtomicLong();
  private final AtomicLong usedBytes = new AtomicLong();
  private final AtomicLong garbageBytes = new AtomicLong();
  private final AtomicLong damagedNeedles = new AtomicLong();
  private final AtomicLong freeBytes = new AtomicLong();
  private final AtomicLong readErrors = new AtomicLong();
  private final AtomicLong volumesNeedingCheck = new AtomicLong();

  public ServerMetrics() {
    for (int m = 0; m < METHODS.length; m++) {
      latency[m] = Timer.builder("wimg.http.request.duration")
          .description("Time from a request's head to its response being written")
          .tag("method", METHODS[m])
          .register(registry);
    }
    received = Counter.builder("wimg.http.received").baseUnit("bytes")
        .description("Bytes read from clients").register(registry);
    sent = Counter.builder("wimg.http.sent").baseUnit("bytes")
        .description("Bytes written to clients").register(registry);
    storeGauge("wimg.store.volumes", null, "Volumes of the store", volumes);
    storeGauge("wimg.store.needles", null, "Live needles (files) in the store", needles);
    storeGauge("wimg.store.used", "bytes", "Bytes appended to volumes", usedBytes);
    storeGauge("wimg.store.garbage", "bytes", "Bytes of deleted needles awaiting vacuum", garbageBytes);
    storeGauge("wimg.store.damaged.needles", null,
        "Live needles known to fail their checks (answered 500, kept for repair)", damagedNeedles);
    storeGauge("wimg.store.free", "bytes", "Usable bytes left on the data folder's file system", freeBytes);
    storeGauge("wimg.store.read.errors", null, "Reads that failed because a volume file could not be read",
        readErrors);
    storeGauge("wimg.store.volumes.needing.check", null, "Volumes with read errors, whose disk needs a check",
        volumesNeedingCheck);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
  }

  private void storeGauge(String name, String unit, String description, AtomicLong value) {
    Gauge.builder(name, value, AtomicLong::doubleValue).baseUnit(unit).description(description).register(registry);
  }

  /** Registers a gauge read at scrape time from {@code source}. */
  public <T> void gauge(String name, String unit, String description, T source, ToDoubleFunction<T> value) {
    Gauge.builder(name, source, value).baseUnit(unit).description(description).register(registry);
  }

  /** The method slot of {@code method} for {@link #recordResponse}. */
  public static int methodIndex(HttpMethod method) {
    if (method == HttpMethod.GET) {
      return GET;
    } else if (method == HttpMethod.HEAD) {
      return HEAD;
    } else if (method == HttpMethod.POST) {
      return POST;
    } else if (method == HttpMethod.DELETE) {
      return DELETE;
    }
    return OTHER;
  }

  /** Counts one response and its latency. */
  public void recordResponse(int method, int status, long nanos) {
    int code = status < 100 || status >= STATUS_SLOTS ? STATUS_SLOTS - 1 : status;
    int slot = method * STATUS_SLOTS + code;
    Counter counter = requests.get(slot);
    if (counter == null) {
      counter = Counter.builder("wimg.http.requests")
          .description("HTTP responses sent, by request method and status")
          .tag("method", METHODS[method])
          .tag("status", Integer.toString(code))
          .register(registry);
      requests.set(slot, counter);
    }
    counter.increment();
    latency[method].record(nanos, TimeUnit.NANOSECONDS);
  }

  public void received(long bytes) {
    received.increment(bytes);
  }

  public void sent(long bytes) {
    sent.increment(bytes);
  }

  /** Refreshes the store gauges. */
  public void updateStore(StoreStats stats) {
    volumes.set(stats.volumes().size());
    needles.set(stats.liveNeedles());
    usedBytes.set(stats.usedBytes());
    garbageBytes.set(stats.volumes().stream().mapToLong(StoreStats.VolumeStats::garbageBytes).sum());
    damagedNeedles.set(stats.damagedNeedles());
    freeBytes.set(stats.freeBytes());
    readErrors.set(stats.volumes().stream().mapToLong(StoreStats.VolumeStats::readErrors).sum());
    volumesNeedingCheck.set(stats.volumes().stream().filter(StoreStats.VolumeStats::needsCheck).count());
  }

  /** All meters in the Prometheus text exposition format 0.0.4. */
  public String scrape() {
    return registry.scrape();
  }

  @Override
  public void close() {
    registry.close();
  }
}
