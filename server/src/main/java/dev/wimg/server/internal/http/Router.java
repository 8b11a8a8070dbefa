package dev.wimg.server.internal.http;

import dev.wimg.server.internal.replication.ReplicaHandler;
import dev.wimg.server.internal.admin.MetricsHandler;
import dev.wimg.server.internal.admin.StatusHandler;
import dev.wimg.server.internal.files.DeleteHandler;
import dev.wimg.server.internal.files.FileReadHandler;
import dev.wimg.server.internal.upload.TusHandler;
import dev.wimg.server.internal.upload.UploadHandler;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Maps a request to its handler, answering the errors that need no handler.
 *
 * <pre>
 *   POST            /files                    upload (raw body or multipart/form-data)
 *   GET, HEAD       /status                   health and store figures (JSON)
 *   GET, HEAD       /metrics                  Prometheus text
 *   GET, HEAD       /&lt;fid&gt;[/&lt;name&gt;]          the file
 *   DELETE          /&lt;fid&gt;[/&lt;name&gt;]          delete the file
 *   (tus)           /uploads/...              resumable uploads ({@link TusHandler})
 *   (any)           /replica...               a cluster member's copies ({@link ReplicaHandler})
 *   GET             /verify                   a cluster member's copies against its peers'
 * </pre>
 *
 * <p>Checks run in this order, so that an anonymous client learns nothing about ids: method (405),
 * write key (401), path syntax (400), existence (404). The root and anything below the reserved
 * names {@code files}, {@code status} and {@code metrics} is 404.
 */
public final class Router {

  private static final String FILE_METHODS = "GET, HEAD, DELETE";
  private static final String READ_METHODS = "GET, HEAD";

  private final UploadHandler upload;
  private final FileReadHandler read;
  private final DeleteHandler delete;
  private final StatusHandler status;
  private final MetricsHandler metrics;
  private final TusHandler tus;
  /** A cluster member's {@code /replica} endpoints, or null (the all-in-one server has none). */
  private final ReplicaHandler replica;

  public Router(ServerContext server) {
    this.upload = new UploadHandler(server);
    this.read = new FileReadHandler(server);
    this.delete = new DeleteHandler(server);
    this.status = new StatusHandler(server);
    this.metrics = new MetricsHandler(server);
    this.tus = new TusHandler(server);
    this.replica = server.replication() == null ? null
        : new ReplicaHandler(server.replication(),
            Math.min(server.config().maxUploadBytes(), server.uploads().limitBytes()));
  }

  /** Handles {@code ex}; returns where its body goes, or null to discard the body. */
  public BodySink route(Exchange ex) {
    String path = ex.target().path();
    HttpMethod method = ex.request().method();
    switch (path) {
      case "/files" -> {
        if (method == HttpMethod.POST) {
          return upload.begin(ex);
        }
        methodNotAllowed(ex, "POST");
        return null;
      }
      case "/status" -> {
        if (isRead(method)) {
          status.handle(ex);
        } else {
          methodNotAllowed(ex, READ_METHODS);
        }
        return null;
      }
      case "/metrics" -> {
        if (isRead(method)) {
          metrics.handle(ex);
        } else {
          methodNotAllowed(ex, READ_METHODS);
        }
        return null;
      }
      default -> {
        // a file path, or not found
      }
    }
    if (TusHandler.handles(path)) {
      return tus.route(ex);
    }
    if (replica != null && ReplicaHandler.handles(path)) {
      return replica.route(ex);
    }
    if (replica != null && path.equals("/verify")) {
      if (method != HttpMethod.GET) {
        methodNotAllowed(ex, "GET");
      } else if (!ex.server().writeAuth().permits(ex.request())) {
        unauthorized(ex);
      } else {
        replica.verify(ex);
      }
      return null;
    }
    if (path.equals("/") || path.startsWith("/files/") || path.startsWith("/status/")
        || path.startsWith("/metrics/")) {
      ex.refuse(HttpResponseStatus.NOT_FOUND, "no such resource");
      return null;
    }
    boolean isDelete = method == HttpMethod.DELETE;
    if (!isRead(method) && !isDelete) {
      methodNotAllowed(ex, FILE_METHODS);
      return null;
    }
    if (isDelete && !ex.server().writeAuth().permits(ex.request())) {
      unauthorized(ex);
      return null;
    }
    FilePath file;
    try {
      file = FilePath.parse(path);
    } catch (IllegalArgumentException e) {
      ex.refuse(HttpResponseStatus.BAD_REQUEST, e.getMessage());
      return null;
    }
    if (isDelete) {
      delete.handle(ex, file);
    } else {
      read.handle(ex, file);
    }
    return null;
  }

  private static boolean isRead(HttpMethod method) {
    return method == HttpMethod.GET || method == HttpMethod.HEAD;
  }

  private static void methodNotAllowed(Exchange ex, String allow) {
    if (ex.hasBody()) {
      ex.closeAfterResponse();
    }
    FullHttpResponse response = ex.server().errors().error(ex.alloc(), HttpResponseStatus.METHOD_NOT_ALLOWED,
        "method " + ex.request().method().name() + " is not allowed here; allowed: " + allow);
    response.headers().set(HttpHeaderNames.ALLOW, allow);
    ex.respond(response);
  }

  /** 401 with the challenge; closes the connection if a body would follow. */
  public static void unauthorized(Exchange ex) {
    if (ex.hasBody()) {
      ex.closeAfterResponse();
    }
    FullHttpResponse response = ex.server().errors().error(ex.alloc(), HttpResponseStatus.UNAUTHORIZED,
        "a write key is required: send Authorization: Bearer <key>");
    response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"wimg\"");
    ex.respond(response);
  }
}
