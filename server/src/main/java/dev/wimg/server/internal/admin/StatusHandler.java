package dev.wimg.server.internal.admin;

import dev.wimg.server.internal.replication.Replication;
import dev.wimg.server.internal.http.Exchange;
import dev.wimg.server.internal.http.ServerContext;
import dev.wimg.server.internal.transform.TransformService;
import dev.wimg.storage.StoreConfig;
import dev.wimg.storage.StoreStats;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /status}: a JSON health report. The store snapshot is taken on the blocking pool
 * (it asks the file system for free space); the answer is written on the event loop.
 */
public final class StatusHandler {

  private static final Logger log = LoggerFactory.getLogger(StatusHandler.class);

  /**
   * The body of {@code /status}.
   *
   * @param status        always {@code ok} when the server answers
   * @param version       WIMG version
   * @param uptimeSeconds seconds since the server started
   * @param needles       live files
   * @param usedBytes     bytes appended to volumes
   * @param freeBytes     usable bytes left on the data folder's file system
   * @param fsync         fsync policy of acknowledged writes: always, interval or never
   * @param volumes       one entry per volume
   * @param engine        settings of this node
   * @param imaging       the picture engine, transform queue, cache and derived pictures
   * @param replication   a cluster member's copies and peers; null for the all-in-one server
   */
  public record StatusBody(String status, String version, long uptimeSeconds, long needles,
                           long usedBytes, long freeBytes, String fsync,
                           List<StoreStats.VolumeStats> volumes, Engine engine,
                           TransformService.Status imaging, Replication.Status replication) {}

  /**
   * @param group            storage group of this node
   * @param volumeSizeLimit  bytes at which a volume is sealed
   * @param maxUploadBytes   largest upload body
   * @param transport        Netty transport: epoll or nio
   * @param writeKeyRequired whether POST and DELETE need a bearer key
   */
  public record Engine(int group, long volumeSizeLimit, long maxUploadBytes, String transport,
                       boolean writeKeyRequired) {}

  private final ServerContext server;

  public StatusHandler(ServerContext server) {
    this.server = server;
  }

  public void handle(Exchange ex) {
    ex.offload(() -> {
      StatusBody body = null;
      RuntimeException failure = null;
      try {
        body = snapshot();
      } catch (RuntimeException e) {
        failure = e;
      }
      StatusBody done = body;
      RuntimeException failed = failure;
      ex.onEventLoop(() -> {
        if (failed != null) {
          log.error("status snapshot failed", failed);
          ex.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "could not read the store's status");
        } else {
          FullHttpResponse response = server.json().response(ex.alloc(), HttpResponseStatus.OK, done);
          response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
          ex.respond(response);
        }
      }, () -> { });
    });
  }

  private StatusBody snapshot() {
    StoreStats stats = server.store().stats();
    StoreConfig store = server.store().config();
    long uptime = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - server.startNanos());
    Engine engine = new Engine(store.group(), store.volumeSizeLimit(), server.config().maxUploadBytes(),
        server.transport(), server.writeAuth().required());
    return new StatusBody("ok", server.version(), uptime, stats.liveNeedles(), stats.usedBytes(),
        stats.freeBytes(), store.fsyncPolicy().name().toLowerCase(Locale.ROOT), stats.volumes(), engine,
        server.transforms().status(),
        server.replication() == null ? null : server.replication().status());
  }
}
