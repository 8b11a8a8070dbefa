package dev.wimg.server.internal.tracker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.protocol.DistributionTask;
import dev.wimg.protocol.Fid;
import dev.wimg.protocol.Heartbeat;
import dev.wimg.protocol.PieceHandout;
import dev.wimg.protocol.TaskReport;
import dev.wimg.protocol.TaskStatus;
import dev.wimg.server.internal.http.ErrorResponses;
import dev.wimg.server.internal.http.JsonBodies;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Predicate;

/**
 * A tracker's distribution endpoints (docs/DISTRIBUTION.md):
 *
 * <pre>
 *   POST    /tasks               {"fid": ..., "targets": ["zone:Z", "group:G", "node:ID"]} (write key):
 *                                201 with the task ({@link TaskStatus}) and its Location; 400 (body,
 *                                target), 401, 404 (no such file), 422 (a file stored whole, not in
 *                                chunks), 503 (no reader of its group, no live node among the targets)
 *   GET     /tasks               {"tasks": [...]}
 *   GET     /tasks/&lt;id&gt;          the task; 404 if this tracker does not know it
 *   DELETE  /tasks/&lt;id&gt;          cancels it (write key): each target drops its pin; 204
 *   POST    /tasks/&lt;id&gt;/report   a target's {@link TaskReport} (cluster key): 200 with its
 *                                {@link PieceHandout}; 409 {"need": "definition"} for a task this
 *                                tracker does not know
 * </pre>
 *
 * <p>Targets are resolved once, at creation, to the live nodes they name, less the members of the
 * file's own group (they hold it). The definition reaches each target in its next heartbeat answer.
 */
final class TaskHandler {

  /** Answers a request (on the channel's event loop). */
  interface Responder extends BiConsumer<FullHttpRequest, FullHttpResponse> {}

  private static final Duration CHUNKS_TIMEOUT = Duration.ofSeconds(10);
  private static final int MAX_TARGET_SPECS = 256;

  private final TaskBoard board;
  private final ClusterMap cluster;
  private final ObjectMapper mapper;
  private final JsonBodies json;
  private final ErrorResponses errors;
  private final HttpClient http;
  private final SecureRandom random = new SecureRandom();

  TaskHandler(TaskBoard board, ClusterMap cluster, ObjectMapper mapper, JsonBodies json, ErrorResponses errors,
              HttpClient http) {
    this.board = board;
    this.cluster = cluster;
    this.mapper = mapper;
    this.json = json;
    this.errors = errors;
    this.http = http;
  }

  static boolean handles(String path) {
    return path.equals("/tasks") || path.startsWith("/tasks/");
  }

  /** What {@code GET /tasks} answers. */
  record TaskList(List<TaskStatus> tasks) {}

  /**
   * Handles a request to {@code /tasks...}.
   *
   * @param writer  whether the request carries the write key (or needs none)
   * @param member  whether it carries the cluster key (or needs none)
   * @param respond answers the request, on the channel's event loop
   */
  void handle(ChannelHandlerContext ctx, FullHttpRequest request, String path, boolean writer, boolean member,
              Responder respond) {
    HttpMethod method = request.method();
    boolean read = method == HttpMethod.GET || method == HttpMethod.HEAD;
    if (path.equals("/tasks")) {
      if (read) {
        respond.accept(request, json.response(ctx.alloc(), HttpResponseStatus.OK, new TaskList(board.all())));
      } else if (method == HttpMethod.POST) {
        if (!writer) {
          respond.accept(request, unauthorized(ctx, "creating a task needs the write key: send Authorization: Bearer <key>"));
        } else {
          create(ctx, request, respond);
        }
      } else {
        respond.accept(request, notAllowed(ctx, method, "GET, HEAD, POST"));
      }
      return;
    }
    String rest = path.substring("/tasks/".length());
    boolean report = rest.endsWith("/report");
    String id = report ? rest.substring(0, rest.length() - "/report".length()) : rest;
    try {
      DistributionTask.checkId(id);
    } catch (IllegalArgumentException e) {
      respond.accept(request, errors.error(ctx.alloc(), HttpResponseStatus.NOT_FOUND, "no such task: " + e.getMessage()));
      return;
    }
    if (report) {
      if (method != HttpMethod.POST) {
        respond.accept(request, notAllowed(ctx, method, "POST"));
      } else if (!member) {
        respond.accept(request, unauthorized(ctx, "a task report needs the cluster key"));
      } else {
        report(ctx, request, id, respond);
      }
    } else if (read) {
      respond.accept(request, board.status(id)
          .map(s -> json.response(ctx.alloc(), HttpResponseStatus.OK, s))
          .orElseGet(() -> errors.error(ctx.alloc(), HttpResponseStatus.NOT_FOUND, "no such task: " + id)));
    } else if (method == HttpMethod.DELETE) {
      if (!writer) {
        respond.accept(request, unauthorized(ctx, "cancelling a task needs the write key"));
      } else if (board.cancel(id)) {
        respond.accept(request, new io.netty.handler.codec.http.DefaultFullHttpResponse(
            io.netty.handler.codec.http.HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT));
      } else {
        respond.accept(request, errors.error(ctx.alloc(), HttpResponseStatus.NOT_FOUND, "no such task: " + id));
      }
    } else {
      respond.accept(request, notAllowed(ctx, method, "GET, HEAD, DELETE"));
    }
  }

  private void report(ChannelHandlerContext ctx, FullHttpRequest request, String id, Responder respond) {
    TaskReport report;
    try {
      report = mapper.readValue(ByteBufUtil.getBytes(request.content()), TaskReport.class);
      if (!report.task().equals(id)) {
        throw new IllegalArgumentException("the report is of task " + report.task() + ", not " + id);
      }
    } catch (IOException | RuntimeException e) {
      respond.accept(request, errors.error(ctx.alloc(), HttpResponseStatus.BAD_REQUEST, "not a task report: "
          + reason(e)));
      return;
    }
    java.util.Optional<PieceHandout> handout;
    try {
      handout = board.report(report, cluster::readers, this::zoneOf);
    } catch (IllegalArgumentException e) {
      respond.accept(request, errors.error(ctx.alloc(), HttpResponseStatus.BAD_REQUEST, "not a task report: "
          + e.getMessage()));
      return;
    }
    respond.accept(request, handout
        .map(h -> json.response(ctx.alloc(), HttpResponseStatus.OK, h))
        .orElseGet(() -> json.response(ctx.alloc(), HttpResponseStatus.CONFLICT,
            Map.of("error", "unknown task " + id + ": send its definition", "status", 409, "need", "definition"))));
  }

  private String zoneOf(String node) {
    return cluster.live().stream().filter(h -> h.node().equals(node)).findFirst().map(Heartbeat::zone).orElse(null);
  }

  private void create(ChannelHandlerContext ctx, FullHttpRequest request, Responder respond) {
    Fid fid;
    List<String> specs = new ArrayList<>();
    try {
      JsonNode body = mapper.readTree(ByteBufUtil.getBytes(request.content()));
      if (body == null || !body.isObject()) {
        throw new IllegalArgumentException("the body must be a JSON object {\"fid\": ..., \"targets\": [...]}");
      }
      fid = Fid.parse(body.path("fid").asText(""));
      JsonNode targets = body.path("targets");
      if (!targets.isArray() || targets.isEmpty() || targets.size() > MAX_TARGET_SPECS) {
        throw new IllegalArgumentException("targets must be a list of 1.." + MAX_TARGET_SPECS
            + " of zone:NAME, group:N or node:ID");
      }
      for (JsonNode t : targets) {
        specs.add(checkTarget(t.asText("")));
      }
    } catch (IOException | RuntimeException e) {
      respond.accept(request, errors.error(ctx.alloc(), HttpResponseStatus.BAD_REQUEST, reason(e)));
      return;
    }
    List<Heartbeat> targets = resolve(specs, fid.group());
    if (targets.size() > DistributionTask.MAX_TARGETS) {
      respond.accept(request, errors.error(ctx.alloc(), HttpResponseStatus.BAD_REQUEST, specs + " name "
          + targets.size() + " nodes; a task has at most " + DistributionTask.MAX_TARGETS));
      return;
    }
    if (targets.isEmpty()) {
      respond.accept(request, errors.error(ctx.alloc(), HttpResponseStatus.SERVICE_UNAVAILABLE,
          "no live storage node outside group " + fid.group() + " matches " + specs));
      return;
    }
    List<Heartbeat> readers = cluster.readers(fid.group());
    if (readers.isEmpty()) {
      respond.accept(request, errors.error(ctx.alloc(), HttpResponseStatus.SERVICE_UNAVAILABLE,
          "no member of group " + fid.group() + " serves reads now"));
      return;
    }
    ctx.channel().config().setAutoRead(false);
    request.retain();
    URI list = URI.create(readers.getFirst().url() + "/" + fid + "?chunks");
    http.sendAsync(HttpRequest.newBuilder(list).timeout(CHUNKS_TIMEOUT).GET().build(),
        HttpResponse.BodyHandlers.ofByteArray()).whenComplete((answer, failure) -> ctx.executor().execute(() -> {
          try {
            respond.accept(request, created(ctx, fid, targets, answer, failure, readers));
          } finally {
            request.release();
          }
        }));
  }

  private FullHttpResponse created(ChannelHandlerContext ctx, Fid fid, List<Heartbeat> targets,
                                   HttpResponse<byte[]> answer, Throwable failure, List<Heartbeat> readers) {
    if (failure != null) {
      return errors.error(ctx.alloc(), HttpResponseStatus.BAD_GATEWAY, "the chunks of " + fid + " could not be read"
          + " from " + readers.getFirst().url() + ": " + failure);
    }
    if (answer.statusCode() == 404) {
      return errors.error(ctx.alloc(), HttpResponseStatus.NOT_FOUND, "no such file: " + fid);
    }
    if (answer.statusCode() != 200) {
      return errors.error(ctx.alloc(), HttpResponseStatus.BAD_GATEWAY, readers.getFirst().url()
          + " answered " + answer.statusCode() + " for the chunks of " + fid);
    }
    DistributionTask task;
    try {
      JsonNode list = mapper.readTree(answer.body());
      JsonNode chunks = list.path("chunks");
      if (!chunks.isArray() || chunks.isEmpty()) {
        return errors.error(ctx.alloc(), HttpResponseStatus.UNPROCESSABLE_ENTITY, fid + " is stored whole (a file"
            + " under the chunk size), not in chunks: only a large file is distributed now");
      }
      List<DistributionTask.Piece> pieces = new ArrayList<>();
      Map<Integer, DistributionTask.Source> sources = new LinkedHashMap<>();
      for (JsonNode c : chunks) {
        DistributionTask.Piece p = new DistributionTask.Piece(c.path("fid").asText(), c.path("offset").asLong(),
            c.path("size").asInt(), c.path("sha256").asText());
        pieces.add(p);
        int group = Fid.parse(p.fid()).group();
        sources.computeIfAbsent(group, g -> new DistributionTask.Source(g,
            cluster.readers(g).stream().map(Heartbeat::url).toList()));
      }
      DistributionTask.FileInfo file = new DistributionTask.FileInfo(list.path("size").asLong(),
          list.path("chunkSize").asInt(), text(list, "name"), text(list, "mime"), list.path("lastModified").asLong(),
          list.path("checksum").asLong());
      byte[] id = new byte[16];
      random.nextBytes(id);
      task = new DistributionTask(DistributionTask.VERSION, HexFormat.of().formatHex(id), fid.toString(),
          System.currentTimeMillis(), file, pieces, targets.stream().map(Heartbeat::node).toList(),
          new ArrayList<>(sources.values()));
    } catch (IOException | RuntimeException e) {
      return errors.error(ctx.alloc(), HttpResponseStatus.BAD_GATEWAY, "the chunk list of " + fid + " from "
          + readers.getFirst().url() + " does not make a task: " + reason(e));
    }
    FullHttpResponse response = json.response(ctx.alloc(), HttpResponseStatus.CREATED, board.create(task, targets));
    response.headers().set(HttpHeaderNames.LOCATION, "/tasks/" + task.id());
    return response;
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value == null || value.isNull() ? null : value.asText();
  }

  /** {@code spec} if it is {@code zone:NAME}, {@code group:N} or {@code node:ID}. */
  static String checkTarget(String spec) {
    int colon = spec.indexOf(':');
    String kind = colon < 0 ? "" : spec.substring(0, colon);
    String value = colon < 0 ? "" : spec.substring(colon + 1);
    boolean ok = switch (kind) {
      case "zone", "node" -> !value.isEmpty() && value.length() <= Heartbeat.MAX_TEXT_LENGTH;
      case "group" -> value.matches("[0-9]{1,5}") && Integer.parseInt(value) >= 1
          && Integer.parseInt(value) <= Fid.MAX_GROUP;
      default -> false;
    };
    if (!ok) {
      throw new IllegalArgumentException("target \"" + spec + "\" is none of zone:NAME, group:N (1.." + Fid.MAX_GROUP
          + ") or node:ID");
    }
    return spec;
  }

  /** The live nodes that {@code specs} name, outside {@code ownGroup}, each once. */
  private List<Heartbeat> resolve(List<String> specs, int ownGroup) {
    Map<String, Heartbeat> out = new LinkedHashMap<>();
    for (String spec : specs) {
      String value = spec.substring(spec.indexOf(':') + 1);
      Predicate<Heartbeat> matches = switch (spec.substring(0, spec.indexOf(':'))) {
        case "zone" -> h -> h.zone().equals(value);
        case "group" -> h -> h.group() == Integer.parseInt(value);
        default -> h -> h.node().equals(value);
      };
      for (Heartbeat h : cluster.live()) {
        if (h.group() != ownGroup && matches.test(h)) {
          out.putIfAbsent(h.node(), h);
        }
      }
    }
    return new ArrayList<>(out.values());
  }

  private FullHttpResponse unauthorized(ChannelHandlerContext ctx, String message) {
    FullHttpResponse response = errors.error(ctx.alloc(), HttpResponseStatus.UNAUTHORIZED, message);
    response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"wimg\"");
    return response;
  }

  private FullHttpResponse notAllowed(ChannelHandlerContext ctx, HttpMethod method, String allow) {
    FullHttpResponse response = errors.error(ctx.alloc(), HttpResponseStatus.METHOD_NOT_ALLOWED,
        "method " + method.name() + " is not allowed here; allowed: " + allow);
    response.headers().set(HttpHeaderNames.ALLOW, allow);
    return response;
  }

  private static String reason(Exception e) {
    return e.getCause() instanceof IllegalArgumentException bad ? bad.getMessage()
        : e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
  }
}
