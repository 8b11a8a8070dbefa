package dev.wimg.server.internal.tracker;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.protocol.ClusterKey;
import dev.wimg.protocol.ClusterView;
import dev.wimg.protocol.Fid;
import dev.wimg.protocol.Heartbeat;
import dev.wimg.protocol.SlotClaim;
import dev.wimg.protocol.SlotGrant;
import dev.wimg.server.internal.http.ErrorResponses;
import dev.wimg.server.internal.http.JsonBodies;
import dev.wimg.server.internal.slots.SlotService;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A tracker's HTTP endpoints. Requests arrive whole ({@code HttpObjectAggregator} in front).
 *
 * <pre>
 *   POST          /cluster/heartbeat   a storage node's heartbeat (JSON {@link Heartbeat}); 200 with
 *                                      its group's members, or 409 when another live node holds
 *                                      its slot
 *   POST          /cluster/slots       a node's slot ({@link SlotClaim} → {@link SlotGrant}); 409
 *                                      when its group has no slot left, 503 without a majority
 *                                      of the trackers
 *   GET, HEAD     /cluster             the cluster view (JSON {@link dev.wimg.protocol.ClusterView})
 *   GET, HEAD     /cluster/assign      the node an upload should go to now: {group, node, url, zone}
 *   GET, HEAD     /status              the tracker's own health
 *   POST          /files               the upload, passed on to a storage node; its answer
 *   GET, HEAD, DELETE /&lt;fid&gt;[/name]   307 to a member of the fid's group; a read whose X-Wimg-Zone
 *                                      has a copy a distribution task pinned there, to that copy
 *   (any)         /tasks...            distribution tasks ({@link TaskHandler})
 * </pre>
 *
 * <p>An accepted heartbeat's answer carries the distribution tasks offered to the node that it has
 * not reported yet, so a task reaches its targets within a heartbeat.
 *
 * <p>An upload that fails on a node before it is acknowledged (no connection, a 5xx) is sent to
 * another member or group, up to {@value #UPLOAD_ATTEMPTS} nodes, so one node's death costs a
 * client no failed upload; a 4xx is the client's and is answered as it is.
 */
@ChannelHandler.Sharable
public final class TrackerHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

  private static final Logger LOG = LoggerFactory.getLogger(TrackerHandler.class);

  /** Nodes an upload is offered to before the tracker answers 503. */
  static final int UPLOAD_ATTEMPTS = 3;
  /** Header in which a client names its zone, for {@code nearest} member placement. */
  public static final String ZONE_HEADER = "X-Wimg-Zone";
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
  private static final Duration UPLOAD_TIMEOUT = Duration.ofMinutes(2);
  /** Request headers an upload carries on to the storage node. */
  private static final List<String> PASSED_HEADERS = List.of("Content-Type", "Authorization",
      "Content-Disposition");

  /** What {@code GET /status} answers. */
  record Status(String status, String role, String version, int groups, int members,
                long uptimeSeconds) {}

  /** What {@code GET /cluster/assign} answers: the node an upload should go to. */
  record Assignment(int group, String node, String url, String zone) {}

  /** The answer of {@code GET /locations/<fid>}. */
  record Locations(String fid, int group, List<Location> locations) {}

  /** One place a file can be read from: a {@code member} of its group, or a {@code pinned} copy. */
  record Location(String url, String node, String zone, String kind) {}

  /** The path of {@code GET /locations/<fid>}. */
  private static final String LOCATIONS = "/locations/";

  /**
   * What an accepted heartbeat is answered with: the node's group as {@code GET /cluster} shows
   * it, whose other members are the peers it replicates to.
   */
  record HeartbeatAnswer(boolean accepted, ClusterView.Group group,
                         List<dev.wimg.protocol.DistributionTask> tasks) {}

  private final ClusterMap cluster;
  private final Placement placement;
  private final ObjectMapper mapper;
  private final JsonBodies json;
  private final ErrorResponses errors;
  private final byte[] clusterKey;
  private final List<String> trackers;
  private final String version;
  private final long startNanos = System.nanoTime();
  private final HttpClient http;
  private final SlotService slots;
  private final TaskBoard tasks;
  private final TaskHandler taskHandler;
  private final byte[] writeKey;

  public TrackerHandler(ClusterMap cluster, Placement placement, ObjectMapper mapper,
                        String clusterKey, List<String> trackers, String version,
                        HttpClient http, SlotService slots, TaskBoard tasks, String writeKey) {
    this.cluster = cluster;
    this.placement = placement;
    this.mapper = mapper;
    this.json = new JsonBodies(mapper);
    this.errors = new ErrorResponses(json);
    this.clusterKey = clusterKey == null ? null : clusterKey.getBytes(StandardCharsets.UTF_8);
    this.trackers = List.copyOf(trackers);
    this.version = version;
    this.http = http;
    this.slots = slots;
    this.tasks = tasks;
    this.taskHandler = new TaskHandler(tasks, cluster, mapper, json, errors, http);
    this.writeKey = writeKey == null ? null : ("Bearer " + writeKey).getBytes(StandardCharsets.UTF_8);
  }

  /** The HTTP client uploads are passed on with. */
  public static HttpClient newHttpClient() {
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(CONNECT_TIMEOUT).followRedirects(HttpClient.Redirect.NEVER).build();
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    if (!request.decoderResult().isSuccess()) {
      respond(ctx, request, errors.error(ctx.alloc(), HttpResponseStatus.BAD_REQUEST,
          "malformed request"), false);
      return;
    }
    QueryStringDecoder target = new QueryStringDecoder(request.uri());
    String path = target.path();
    HttpMethod method = request.method();
    boolean read = method == HttpMethod.GET || method == HttpMethod.HEAD;
    if (path.startsWith(LOCATIONS)) {
      if (read) {
        locations(ctx, request, path.substring(LOCATIONS.length()));
      } else {
        notAllowed(ctx, request, "GET, HEAD");
      }
      return;
    }
    if (TaskHandler.handles(path)) {
      taskHandler.handle(ctx, request, path, writerPermits(ctx, request), clusterKeyPermits(ctx, request),
          (req, response) -> respond(ctx, req, response, true));
      return;
    }
    switch (path) {
      case "/cluster/heartbeat" -> {
        if (method == HttpMethod.POST) {
          heartbeat(ctx, request);
        } else {
          notAllowed(ctx, request, "POST");
        }
      }
      case "/cluster/slots" -> {
        if (method == HttpMethod.POST) {
          slot(ctx, request);
        } else {
          notAllowed(ctx, request, "POST");
        }
      }
      case "/cluster" -> {
        if (read) {
          respond(ctx, request, json.response(ctx.alloc(), HttpResponseStatus.OK,
              cluster.view(trackers)), true);
        } else {
          notAllowed(ctx, request, "GET, HEAD");
        }
      }
      case "/cluster/assign" -> {
        if (read) {
          assign(ctx, request);
        } else {
          notAllowed(ctx, request, "GET, HEAD");
        }
      }
      case "/status" -> {
        if (read) {
          respond(ctx, request, json.response(ctx.alloc(), HttpResponseStatus.OK, new Status("ok",
              "tracker", version, cluster.view(trackers).groups().size(), cluster.members(),
              (System.nanoTime() - startNanos) / 1_000_000_000L)), true);
        } else {
          notAllowed(ctx, request, "GET, HEAD");
        }
      }
      case "/files" -> {
        if (method == HttpMethod.POST) {
          // No next request is read until this one is answered, so answers keep their order.
          ctx.channel().config().setAutoRead(false);
          upload(ctx, request, new HashSet<>(), 1);
        } else {
          notAllowed(ctx, request, "POST");
        }
      }
      default -> {
        if (read || method == HttpMethod.DELETE) {
          redirect(ctx, request, path);
        } else {
          notAllowed(ctx, request, "GET, HEAD, DELETE");
        }
      }
    }
  }

  /**
   * Where an upload should go now, for clients that send it to a storage node themselves: the
   * node placement would pick for {@code POST /files}.
   */
  private void assign(ChannelHandlerContext ctx, FullHttpRequest request) {
    Optional<Heartbeat> node = placement.choose(cluster.uploadCandidates(Set.of()),
        request.headers().get(ZONE_HEADER));
    if (node.isEmpty()) {
      FullHttpResponse response = errors.error(ctx.alloc(), HttpResponseStatus.SERVICE_UNAVAILABLE,
          "no storage node takes uploads now");
      response.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
      respond(ctx, request, response, true);
      return;
    }
    Heartbeat h = node.get();
    FullHttpResponse response = json.response(ctx.alloc(), HttpResponseStatus.OK,
        new Assignment(h.group(), h.node(), h.url(), h.zone()));
    response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    respond(ctx, request, response, true);
  }

  /**
   * The answer to an upload the tracker does not hold (a body larger than it buffers or of unknown
   * length, a resumable upload's creation; {@link LargeUploadRedirect}): {@code 307} to the member
   * placement picks, the same path and query, so the client sends it there itself; {@code 503}
   * when no member takes uploads.
   */
  FullHttpResponse uploadRedirect(io.netty.buffer.ByteBufAllocator alloc,
                                  io.netty.handler.codec.http.HttpRequest head) {
    Optional<Heartbeat> node = placement.choose(cluster.uploadCandidates(Set.of()),
        head.headers().get(ZONE_HEADER));
    if (node.isEmpty()) {
      FullHttpResponse response = errors.error(alloc, HttpResponseStatus.SERVICE_UNAVAILABLE,
          "no storage node takes uploads now");
      response.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
      return response;
    }
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
        HttpResponseStatus.TEMPORARY_REDIRECT, Unpooled.EMPTY_BUFFER);
    response.headers().set(HttpHeaderNames.LOCATION, node.get().url() + head.uri());
    response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    HttpUtil.setContentLength(response, 0);
    return response;
  }

  private void heartbeat(ChannelHandlerContext ctx, FullHttpRequest request) {
    if (!clusterKeyPermits(ctx, request)) {
      respond(ctx, request, errors.error(ctx.alloc(), HttpResponseStatus.UNAUTHORIZED,
          clusterKey == null ? "heartbeats are taken from loopback only unless the tracker has a"
              + " cluster key" : "a heartbeat needs the cluster key in " + ClusterKey.HEADER), true);
      return;
    }
    Heartbeat heartbeat;
    try {
      heartbeat = mapper.readValue(ByteBufUtil.getBytes(request.content()), Heartbeat.class);
    } catch (IOException | RuntimeException e) {
      respond(ctx, request, errors.error(ctx.alloc(), HttpResponseStatus.BAD_REQUEST,
          "not a heartbeat: " + reason(e)), true);
      return;
    }
    if (cluster.heard(heartbeat) == ClusterMap.Admission.ACCEPTED) {
      respond(ctx, request, json.response(ctx.alloc(), HttpResponseStatus.OK,
          new HeartbeatAnswer(true, cluster.group(heartbeat.group()), tasks.offeredTo(heartbeat.node()))), true);
      return;
    }
    String message = "slot " + heartbeat.slot() + " of group " + heartbeat.group() + " is held by "
        + cluster.slotHolder(heartbeat).map(h -> "node " + h.node() + " at " + h.url())
            .orElse("another node") + "; two nodes must never write the same volumes";
    respond(ctx, request, errors.error(ctx.alloc(), HttpResponseStatus.CONFLICT, message), true);
  }

  /**
   * Claims a node's slot in the trackers' Raft group and answers once a majority agreed. No next
   * request on the connection is read meanwhile, so answers keep their order.
   */
  private void slot(ChannelHandlerContext ctx, FullHttpRequest request) {
    if (!clusterKeyPermits(ctx, request)) {
      respond(ctx, request, errors.error(ctx.alloc(), HttpResponseStatus.UNAUTHORIZED,
          clusterKey == null ? "slots are given to loopback addresses only unless the tracker has"
              + " a cluster key" : "a slot claim needs the cluster key in " + ClusterKey.HEADER),
          true);
      return;
    }
    SlotClaim claim;
    try {
      claim = mapper.readValue(ByteBufUtil.getBytes(request.content()), SlotClaim.class);
    } catch (IOException | RuntimeException e) {
      respond(ctx, request, errors.error(ctx.alloc(), HttpResponseStatus.BAD_REQUEST,
          "not a slot claim: " + reason(e)), true);
      return;
    }
    ctx.channel().config().setAutoRead(false);
    request.retain();
    slots.claim(claim.group(), claim.node()).whenComplete((slot, completion) ->
        ctx.executor().execute(() -> {
          Throwable failure = completion instanceof java.util.concurrent.CompletionException
              && completion.getCause() != null ? completion.getCause() : completion;
          try {
            FullHttpResponse response;
            if (failure instanceof SlotService.NoMajorityException noMajority) {
              response = errors.error(ctx.alloc(), HttpResponseStatus.SERVICE_UNAVAILABLE,
                  "no slot now: " + noMajority.getMessage() + "; a slot needs a majority of the "
                      + "trackers running");
              response.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
            } else if (failure != null) {
              LOG.warn("slot claim of {} in group {} failed", claim.node(), claim.group(), failure);
              response = errors.error(ctx.alloc(), HttpResponseStatus.INTERNAL_SERVER_ERROR,
                  "the slot claim failed: " + failure);
            } else if (slot.isEmpty()) {
              response = errors.error(ctx.alloc(), HttpResponseStatus.CONFLICT, "group "
                  + claim.group() + " has no slot left: all " + SlotGrant.MAX_SLOT
                  + " are taken by other nodes");
            } else {
              response = json.response(ctx.alloc(), HttpResponseStatus.OK,
                  new SlotGrant(claim.group(), claim.node(), slot.getAsInt()));
            }
            respond(ctx, request, response, true);
          } finally {
            request.release();
          }
        }));
  }

  private static String reason(Exception e) {
    return e.getCause() instanceof IllegalArgumentException bad ? bad.getMessage()
        : e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
  }

  /** Whether the request carries the write key; without one, whether it comes from loopback. */
  private boolean writerPermits(ChannelHandlerContext ctx, FullHttpRequest request) {
    if (writeKey == null) {
      return fromLoopback(ctx);
    }
    String given = request.headers().get(HttpHeaderNames.AUTHORIZATION);
    return given != null && MessageDigest.isEqual(writeKey, given.getBytes(StandardCharsets.UTF_8));
  }

  private static boolean fromLoopback(ChannelHandlerContext ctx) {
    return ctx.channel().remoteAddress() instanceof InetSocketAddress remote
        && remote.getAddress() != null && remote.getAddress().isLoopbackAddress();
  }

  private boolean clusterKeyPermits(ChannelHandlerContext ctx, FullHttpRequest request) {
    if (clusterKey == null) {
      return fromLoopback(ctx);
    }
    String given = request.headers().get(ClusterKey.HEADER);
    return given != null
        && MessageDigest.isEqual(clusterKey, given.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Sends the upload to a chosen node; on no answer or a 5xx, to another, skipping the nodes that
   * failed, up to {@value #UPLOAD_ATTEMPTS}. The request's body stays retained until the last
   * attempt ends.
   */
  private void upload(ChannelHandlerContext ctx, FullHttpRequest request, Set<String> failed,
                      int attempt) {
    Optional<Heartbeat> node = placement.choose(cluster.uploadCandidates(failed),
        request.headers().get(ZONE_HEADER));
    if (node.isEmpty()) {
      FullHttpResponse response = errors.error(ctx.alloc(), HttpResponseStatus.SERVICE_UNAVAILABLE,
          failed.isEmpty() ? "no storage node takes uploads now"
              : "the upload failed on " + failed.size() + " storage node(s) and no other takes"
              + " uploads now");
      response.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
      respond(ctx, request, response, true);
      return;
    }
    Heartbeat target = node.get();
    HttpRequest.Builder forward = HttpRequest.newBuilder(URI.create(target.url() + request.uri()))
        .timeout(UPLOAD_TIMEOUT)
        .POST(HttpRequest.BodyPublishers.ofByteArray(ByteBufUtil.getBytes(request.content())));
    for (String name : PASSED_HEADERS) {
      String value = request.headers().get(name);
      if (value != null) {
        forward.header(name, value);
      }
    }
    request.retain();
    http.sendAsync(forward.build(), HttpResponse.BodyHandlers.ofByteArray())
        .whenComplete((answer, completion) -> ctx.executor().execute(() -> {
          Throwable failure = completion instanceof java.util.concurrent.CompletionException
              && completion.getCause() != null ? completion.getCause() : completion;
          boolean retry = failure != null || answer.statusCode() >= 500;
          if (retry) {
            LOG.warn("upload to {} ({}, group {}) failed: {}", target.node(), target.url(),
                target.group(), failure != null ? failure.toString() : "status " + answer.statusCode());
            cluster.failed(target.group(), target.node());
            failed.add(target.node());
          }
          try {
            if (retry && attempt < UPLOAD_ATTEMPTS) {
              upload(ctx, request, failed, attempt + 1);
            } else if (failure != null) {
              FullHttpResponse response = errors.error(ctx.alloc(), HttpResponseStatus.BAD_GATEWAY,
                  "the upload failed on " + failed.size() + " storage node(s); last: "
                      + failure.getClass().getSimpleName()
                  + (failure.getMessage() == null ? "" : " (" + failure.getMessage() + ")"));
              respond(ctx, request, response, true);
            } else {
              respond(ctx, request, passOn(answer), true);
            }
          } finally {
            request.release();
          }
        }));
  }

  /** The storage node's answer as the tracker's. */
  private static FullHttpResponse passOn(HttpResponse<byte[]> answer) {
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
        HttpResponseStatus.valueOf(answer.statusCode()), Unpooled.wrappedBuffer(answer.body()));
    for (String name : List.of("Content-Type", "Location", "ETag", "Cache-Control")) {
      answer.headers().firstValue(name).ifPresent(v -> response.headers().set(name, v));
    }
    return response;
  }

  private void redirect(ChannelHandlerContext ctx, FullHttpRequest request, String path) {
    int slash = path.indexOf('/', 1);
    Fid fid = fidOrNotFound(ctx, request, path.substring(1, slash < 0 ? path.length() : slash), "no such resource");
    if (fid == null) {
      return;
    }
    String zone = request.headers().get(ZONE_HEADER);
    if (zone != null && request.method() != HttpMethod.DELETE) {
      // a copy a distribution task pinned in the client's zone is nearer than the file's group
      List<TaskBoard.PinnedCopy> pins = tasks.pinnedCopies(fid.toString()).stream()
          .filter(p -> zone.equals(p.zone())).toList();
      if (!pins.isEmpty()) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
            HttpResponseStatus.TEMPORARY_REDIRECT, Unpooled.EMPTY_BUFFER);
        String pin = pins.get(java.util.concurrent.ThreadLocalRandom.current().nextInt(pins.size())).url();
        response.headers().set(HttpHeaderNames.LOCATION, pin + request.uri());
        response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        respond(ctx, request, response, true);
        return;
      }
    }
    List<Heartbeat> readers = cluster.readers(fid.group());
    if (readers.isEmpty()) {
      FullHttpResponse response = errors.error(ctx.alloc(), HttpResponseStatus.SERVICE_UNAVAILABLE,
          "no member of group " + fid.group() + " serves reads now");
      response.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
      respond(ctx, request, response, true);
      return;
    }
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
        HttpResponseStatus.TEMPORARY_REDIRECT, Unpooled.EMPTY_BUFFER);
    response.headers().set(HttpHeaderNames.LOCATION, readers.getFirst().url() + request.uri());
    // The member chosen changes with load and liveness: a client must ask again next time.
    response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    respond(ctx, request, response, true);
  }

  /**
   * {@code GET /locations/<fid>}: every place the file can be read from now, nearest to the
   * client first: the readers of its group and the copies distribution tasks pinned, those in the
   * client's {@code X-Wimg-Zone} first, then those in its IPv4 /24, then the group's members
   * (least loaded first) before pinned copies. {@code 503} when there are none.
   */
  private void locations(ChannelHandlerContext ctx, FullHttpRequest request, String fidText) {
    Fid fid = fidOrNotFound(ctx, request, fidText, "no such file");
    if (fid == null) {
      return;
    }
    List<Location> all = new ArrayList<>();
    for (Heartbeat h : cluster.readers(fid.group())) {
      all.add(new Location(h.url(), h.node(), h.zone(), "member"));
    }
    for (TaskBoard.PinnedCopy p : tasks.pinnedCopies(fid.toString())) {
      all.add(new Location(p.url(), p.node(), p.zone(), "pinned"));
    }
    if (all.isEmpty()) {
      FullHttpResponse response = errors.error(ctx.alloc(), HttpResponseStatus.SERVICE_UNAVAILABLE,
          "no member of group " + fid.group() + " serves reads now, and no pinned copy is known");
      response.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
      respond(ctx, request, response, true);
      return;
    }
    String zone = request.headers().get(ZONE_HEADER);
    String clientPrefix = ctx.channel().remoteAddress() instanceof InetSocketAddress remote
        && remote.getAddress() instanceof java.net.Inet4Address v4
        ? TaskBoard.prefix24("http://" + v4.getHostAddress() + "/") : null;
    // a stable sort: the group's readers keep their order, least loaded first
    all.sort(java.util.Comparator.<Location>comparingInt(l -> zone != null && zone.equals(l.zone()) ? 0 : 1)
        .thenComparingInt(l -> clientPrefix != null && clientPrefix.equals(TaskBoard.prefix24(l.url())) ? 0 : 1)
        .thenComparingInt(l -> l.kind().equals("member") ? 0 : 1));
    FullHttpResponse response = json.response(ctx.alloc(), HttpResponseStatus.OK,
        new Locations(fid.toString(), fid.group(), all));
    response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    respond(ctx, request, response, true);
  }

  /** {@code text} as a fid, or null once {@code 404} ("{@code what}: why") is answered. */
  private Fid fidOrNotFound(ChannelHandlerContext ctx, FullHttpRequest request, String text, String what) {
    try {
      return Fid.parse(text);
    } catch (IllegalArgumentException e) {
      respond(ctx, request, errors.error(ctx.alloc(), HttpResponseStatus.NOT_FOUND, what + ": " + e.getMessage()),
          true);
      return null;
    }
  }

  private void notAllowed(ChannelHandlerContext ctx, FullHttpRequest request, String allow) {
    FullHttpResponse response = errors.error(ctx.alloc(), HttpResponseStatus.METHOD_NOT_ALLOWED,
        "method " + request.method().name() + " is not allowed here; allowed: " + allow);
    response.headers().set(HttpHeaderNames.ALLOW, allow);
    respond(ctx, request, response, true);
  }

  private static void respond(ChannelHandlerContext ctx, FullHttpRequest request,
                              FullHttpResponse response, boolean mayKeepAlive) {
    ctx.channel().config().setAutoRead(true);
    boolean keepAlive = mayKeepAlive && HttpUtil.isKeepAlive(request);
    HttpUtil.setContentLength(response, response.content().readableBytes());
    if (request.method() == HttpMethod.HEAD) {
      response.content().clear();
    }
    if (keepAlive) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      ctx.writeAndFlush(response);
    } else {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.debug("tracker connection {} failed", ctx.channel().remoteAddress(), cause);
    ctx.close();
  }
}
