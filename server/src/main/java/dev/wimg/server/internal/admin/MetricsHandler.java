package dev.wimg.server.internal.admin;

import dev.wimg.server.internal.http.Exchange;
import dev.wimg.server.internal.http.ServerContext;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /metrics}: every meter in the Prometheus text format. Store gauges are refreshed from
 * one snapshot per scrape, on the blocking pool, together with the scrape itself.
 */
public final class MetricsHandler {

  private static final Logger log = LoggerFactory.getLogger(MetricsHandler.class);

  /** Content-Type of the Prometheus text exposition format 0.0.4. */
  public static final AsciiString PROMETHEUS_TEXT = AsciiString.cached("text/plain; version=0.0.4; charset=utf-8");

  private final ServerContext server;

  public MetricsHandler(ServerContext server) {
    this.server = server;
  }

  public void handle(Exchange ex) {
    ex.offload(() -> {
      String text = null;
      RuntimeException failure = null;
      try {
        server.metrics().updateStore(server.store().stats());
        text = server.metrics().scrape();
      } catch (RuntimeException e) {
        failure = e;
      }
      String done = text;
      RuntimeException failed = failure;
      ex.onEventLoop(() -> {
        if (failed != null) {
          log.error("metrics scrape failed", failed);
          ex.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "could not collect metrics");
          return;
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
            ByteBufUtil.writeUtf8(ex.alloc(), done));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, PROMETHEUS_TEXT);
        response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        ex.respond(response);
      }, () -> { });
    });
  }
}
