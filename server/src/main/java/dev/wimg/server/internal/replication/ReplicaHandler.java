package dev.wimg.server.internal.replication;

import dev.wimg.protocol.ClusterKey;
import dev.wimg.protocol.Fid;
import dev.wimg.server.internal.http.BodySink;
import dev.wimg.server.internal.http.ErrorResponses;
import dev.wimg.server.internal.http.Exchange;
import dev.wimg.server.internal.http.UnavailableException;
import dev.wimg.storage.CopyOffsetException;
import dev.wimg.storage.CopyRevisionException;
import dev.wimg.storage.CorruptNeedleException;
import dev.wimg.storage.Store;
import dev.wimg.storage.StoreStats;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;

/**
 * The {@code /replica} endpoints, by which the members of a group keep their copies of each
 * other's volumes (docs/CLUSTER.md, "Replication" and "Catch-up"). Every request needs the
 * cluster key ({@code X-Wimg-Cluster-Key}); a node without one takes them from loopback only.
 *
 * <pre>
 *   GET     /replica                       the volumes held, their revisions and lengths (JSON)
 *   GET     /replica/&lt;volume&gt;?revision=R&amp;from=N&amp;max=M
 *                                          whole records of revision R from N (octet-stream), at most
 *                                          about M bytes
 *   POST    /replica/&lt;volume&gt;?revision=R&amp;offset=N
 *                                          append the body's records (of revision R) at exactly N;
 *                                          200 {"volume","end"}, 409 {"error","end"} when this copy
 *                                          ends elsewhere, 422 when a record fails its check (nothing
 *                                          written)
 *   DELETE  /replica/&lt;fid&gt;                 delete a file of a volume this node writes (a peer passes
 *                                          a delete on); 200 {"deleted":true|false}
 *   GET     /replica/&lt;volume&gt;/crc?revision=R&amp;to=N
 *                                          CRC32C of this copy's bytes [0, N): {"volume","to","crc"}
 *   POST    /replica/&lt;volume&gt;/follow?revision=R
 *                                          replace this copy by revision R read from the volume's
 *                                          writer (which asks, having vacuumed it); 200 once done
 * </pre>
 *
 * A request naming a revision the volume is not at here answers 409 {"error","revision"} with the
 * revision held (offsets of one revision mean nothing in another: a vacuum starts the next).
 *
 * <p>And {@code GET /verify} (write key, as deletes): this member's copies against its peers'
 * ({@link CopyVerifier}), {@code wimg verify --server}.
 */
public final class ReplicaHandler {

  /** Most records one {@code GET /replica/<volume>} answers, bytes. */
  static final int MOST_READ_BYTES = 16 << 20;

  private final byte[] clusterKey;
  private final long mostCopyBytes;
  private final Replication replication;

  /**
   * @param replication    the node's replication (its cluster key: null means loopback only)
   * @param maxUploadBytes the largest file held whole in one record (larger ones are chunks): a
   *                       copy may carry one such record
   */
  public ReplicaHandler(Replication replication, long maxUploadBytes) {
    this.replication = replication;
    String clusterKey = replication.clusterKey();
    this.clusterKey = clusterKey == null ? null : clusterKey.getBytes(StandardCharsets.UTF_8);
    this.mostCopyBytes = PeerSender.MOST_REQUEST_BYTES + maxUploadBytes + 4096;
  }

  /** Whether {@code path} is one of these endpoints. */
  public static boolean handles(String path) {
    return path.equals("/replica") || path.startsWith("/replica/");
  }

  /** Handles a request to {@code /replica...}; returns the sink of a copy's body, or null. */
  public BodySink route(Exchange ex) {
    if (!permitted(ex)) {
      ex.refuse(HttpResponseStatus.UNAUTHORIZED, clusterKey == null
          ? "replication is taken from loopback only unless the node has a cluster key"
          : "replication needs the cluster key in " + ClusterKey.HEADER);
      return null;
    }
    String path = ex.target().path();
    HttpMethod method = ex.request().method();
    if (path.equals("/replica")) {
      if (method == HttpMethod.GET) {
        volumes(ex);
      } else {
        ex.refuse(HttpResponseStatus.METHOD_NOT_ALLOWED, "allowed here: GET");
      }
      return null;
    }
    String rest = path.substring("/replica/".length());
    if (method == HttpMethod.DELETE) {
      delete(ex, rest);
      return null;
    }
    if (rest.endsWith("/crc") && method == HttpMethod.GET) {
      crc(ex, rest.substring(0, rest.length() - "/crc".length()));
      return null;
    }
    if (rest.endsWith("/follow") && method == HttpMethod.POST) {
      follow(ex, rest.substring(0, rest.length() - "/follow".length()));
      return null;
    }
    int volume;
    try {
      volume = Integer.parseInt(rest);
      if (volume <= 0) {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      ex.refuse(HttpResponseStatus.BAD_REQUEST, "not a volume id: \"" + rest + "\"");
      return null;
    }
    if (method == HttpMethod.GET) {
      read(ex, volume);
      return null;
    }
    if (method == HttpMethod.POST) {
      return copy(ex, volume);
    }
    ex.refuse(HttpResponseStatus.METHOD_NOT_ALLOWED, "allowed here: GET, POST, DELETE");
    return null;
  }

  private boolean permitted(Exchange ex) {
    if (clusterKey == null) {
      return ex.ctx().channel().remoteAddress() instanceof InetSocketAddress remote
          && remote.getAddress() != null && remote.getAddress().isLoopbackAddress();
    }
    String given = ex.request().headers().get(ClusterKey.HEADER);
    return given != null && MessageDigest.isEqual(clusterKey, given.getBytes(StandardCharsets.UTF_8));
  }

  record VolumeEnd(int id, int revision, long end) {}

  record VolumeList(List<VolumeEnd> volumes) {}

  private static void volumes(Exchange ex) {
    StoreStats stats = ex.server().store().stats();
    List<VolumeEnd> list = new ArrayList<>();
    for (StoreStats.VolumeStats v : stats.volumes()) {
      list.add(new VolumeEnd(v.id(), v.revision(), v.usedBytes()));
    }
    ex.respond(ex.server().json().response(ex.alloc(), HttpResponseStatus.OK, new VolumeList(list)));
  }

  /** The request's {@code revision} parameter, or -1 after refusing it (missing or malformed). */
  private static int revision(Exchange ex) {
    try {
      int revision = Integer.parseInt(orDefault(ex.target().queryParameter("revision"), "-1"));
      if (revision >= 0) {
        return revision;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    ex.refuse(HttpResponseStatus.BAD_REQUEST, "revision must be given, the volume's revision >= 0");
    return -1;
  }

  /** 409 for a request that named another revision than the volume's here. */
  private static void wrongRevision(Exchange ex, CopyRevisionException e) {
    ex.respond(ex.server().json().response(ex.alloc(), HttpResponseStatus.CONFLICT,
        Map.of("error", e.getMessage(), "revision", e.revision())));
  }

  private static void read(Exchange ex, int volume) {
    long from;
    int max;
    int revision = revision(ex);
    if (revision < 0) {
      return;
    }
    try {
      from = Long.parseLong(orDefault(ex.target().queryParameter("from"), "0"));
      max = Integer.parseInt(orDefault(ex.target().queryParameter("max"), String.valueOf(MOST_READ_BYTES)));
      if (from < 0 || max <= 0) {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      ex.refuse(HttpResponseStatus.BAD_REQUEST, "from must be an offset >= 0 and max a count > 0");
      return;
    }
    int most = Math.min(max, MOST_READ_BYTES);
    ex.offload(() -> {
      ByteBuffer records;
      String failure = null;
      HttpResponseStatus status = HttpResponseStatus.OK;
      try {
        records = ex.server().store().readRecords(volume, revision, from, most);
        if (records == null) {
          status = HttpResponseStatus.NOT_FOUND;
          failure = "no volume " + volume + " here";
        }
      } catch (CopyRevisionException e) {
        ex.onEventLoop(() -> wrongRevision(ex, e), () -> { });
        return;
      } catch (CorruptNeedleException e) {
        records = null;
        status = HttpResponseStatus.INTERNAL_SERVER_ERROR;
        failure = e.getMessage();
      } catch (java.io.IOException e) {
        records = null;
        status = HttpResponseStatus.CONFLICT;
        failure = e.getMessage();
      }
      ByteBuffer body = records;
      HttpResponseStatus answer = status;
      String why = failure;
      ex.onEventLoop(() -> {
        if (body == null) {
          ex.error(answer, why);
          return;
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
            HttpResponseStatus.OK, Unpooled.wrappedBuffer(body));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
        ex.respond(response);
      }, () -> { });
    });
  }

  private void crc(Exchange ex, String volumeText) {
    int volume;
    long to;
    int revision = revision(ex);
    if (revision < 0) {
      return;
    }
    try {
      volume = Integer.parseInt(volumeText);
      to = Long.parseLong(orDefault(ex.target().queryParameter("to"), "-1"));
      if (volume <= 0 || to < 0) {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      ex.refuse(HttpResponseStatus.BAD_REQUEST, "GET /replica/<volume>/crc?to=N needs a volume id"
          + " and an offset N >= 0");
      return;
    }
    ex.offload(() -> {
      Object body;
      HttpResponseStatus status = HttpResponseStatus.OK;
      try {
        body = Map.of("volume", volume, "to", to, "crc", Long.toHexString(
            new CopyVerifier(ex.server().store(), replication.client()).crc(volume, revision, to)));
      } catch (CopyRevisionException e) {
        status = HttpResponseStatus.CONFLICT;
        body = Map.of("error", e.getMessage(), "revision", e.revision());
      } catch (java.io.IOException e) {
        status = HttpResponseStatus.CONFLICT;
        body = new ErrorResponses.ErrorBody(e.getMessage(), 409);
      }
      Object answer = body;
      HttpResponseStatus code = status;
      ex.onEventLoop(() -> ex.respond(ex.server().json().response(ex.alloc(), code, answer)), () -> { });
    });
  }

  /** {@code POST /replica/<volume>/follow?revision=R}: replace this copy by the writer's revision R. */
  private void follow(Exchange ex, String volumeText) {
    int volume;
    try {
      volume = Integer.parseInt(volumeText);
      if (volume <= 0) {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      ex.refuse(HttpResponseStatus.BAD_REQUEST, "not a volume id: \"" + volumeText + "\"");
      return;
    }
    int revision = revision(ex);
    if (revision < 0) {
      return;
    }
    // a whole volume's copy: on a thread of its own, not the blocking pool of reads
    Thread.ofVirtual().name("wimg-follow-" + volume).start(() -> {
      Object body;
      HttpResponseStatus status = HttpResponseStatus.OK;
      try {
        replication.follow(volume, revision);
        body = Map.of("volume", volume, "revision", revision);
      } catch (java.io.IOException e) {
        status = HttpResponseStatus.CONFLICT;
        body = new ErrorResponses.ErrorBody(e.getMessage(), 409);
      } catch (InterruptedException e) {
        status = HttpResponseStatus.SERVICE_UNAVAILABLE;
        body = new ErrorResponses.ErrorBody("interrupted", 503);
      }
      Object answer = body;
      HttpResponseStatus code = status;
      ex.onEventLoop(() -> ex.respond(ex.server().json().response(ex.alloc(), code, answer)), () -> { });
    });
  }

  /** {@code GET /verify}: this member's copies against its peers'. The write key was checked. */
  public void verify(Exchange ex) {
    ex.offload(() -> {
      Object body;
      try {
        body = new CopyVerifier(ex.server().store(), replication.client())
            .verify(replication.peers());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        body = new ErrorResponses.ErrorBody("interrupted", 503);
      }
      Object answer = body;
      ex.onEventLoop(() -> ex.respond(ex.server().json().response(ex.alloc(), HttpResponseStatus.OK,
          answer)), () -> { });
    });
  }

  private static String orDefault(String value, String otherwise) {
    return value == null ? otherwise : value;
  }

  private BodySink copy(Exchange ex, int volume) {
    long offset;
    int revision = revision(ex);
    if (revision < 0) {
      return null;
    }
    try {
      offset = Long.parseLong(orDefault(ex.target().queryParameter("offset"), "-1"));
      if (offset < 0) {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      ex.refuse(HttpResponseStatus.BAD_REQUEST, "offset must be given, an offset >= 0");
      return null;
    }
    long declared = HttpUtil.isTransferEncodingChunked(ex.request()) ? -1
        : HttpUtil.getContentLength(ex.request(), 0L);
    if (declared > mostCopyBytes) {
      ex.refuse(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "a copy of " + declared
          + " bytes exceeds the limit of " + mostCopyBytes + " bytes");
      return null;
    }
    return new CopyBody(ex, volume, revision, offset);
  }

  /** A copy's body, gathered within the server's upload memory, then appended by the store. */
  private final class CopyBody implements BodySink {

    private final Exchange ex;
    private final int volume;
    private final int revision;
    private final long offset;
    private final CompositeByteBuf body;
    /** The body in one buffer when it came in several, or null. */
    private ByteBuf merged;
    private long reserved;

    CopyBody(Exchange ex, int volume, int revision, long offset) {
      this.ex = ex;
      this.volume = volume;
      this.revision = revision;
      this.offset = offset;
      this.body = ex.alloc().compositeBuffer(Integer.MAX_VALUE);
    }

    @Override
    public boolean add(HttpContent content) {
      ByteBuf bytes = content.content();
      int n = bytes.readableBytes();
      if (body.readableBytes() + (long) n > mostCopyBytes) {
        content.release();
        abort();
        ex.closeAfterResponse();
        ex.error(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "a copy exceeds the limit of "
            + mostCopyBytes + " bytes");
        return false;
      }
      if (!ex.server().uploads().tryReserve(n)) {
        content.release();
        abort();
        ex.unavailable("server is busy with other uploads; retry later");
        return false;
      }
      reserved += n;
      if (n > 0) {
        body.addComponent(true, bytes);
      } else {
        content.release();
      }
      return true;
    }

    @Override
    public void finish() {
      ByteBuffer records;
      if (body.nioBufferCount() == 1) {
        records = body.nioBuffer();
      } else {
        // one direct buffer from the pool: the store writes it with no copy of its own
        merged = ex.alloc().directBuffer(body.readableBytes());
        merged.writeBytes(body);
        records = merged.nioBuffer();
      }
      Store store = ex.server().store();
      store.copy(volume, revision, offset, records).whenComplete((end, failure) -> ex.onEventLoop(() -> {
        abort();
        answer(end, failure);
      }, this::abort));
    }

    private void answer(Long end, Throwable failure) {
      if (failure == null) {
        ex.respond(ex.server().json().response(ex.alloc(), HttpResponseStatus.OK,
            Map.of("volume", volume, "end", end)));
        return;
      }
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null
          ? failure.getCause() : failure;
      switch (cause) {
        case CopyOffsetException gap -> ex.respond(ex.server().json().response(ex.alloc(),
            HttpResponseStatus.CONFLICT, Map.of("error", gap.getMessage(), "end", gap.end())));
        case CopyRevisionException other -> wrongRevision(ex, other);
        case CorruptNeedleException bad -> ex.error(HttpResponseStatus.UNPROCESSABLE_ENTITY,
            "a copied record fails its check, nothing was written: " + bad.getMessage());
        case IllegalArgumentException wrong -> ex.error(HttpResponseStatus.BAD_REQUEST, wrong.getMessage());
        default -> {
          String noSpace = ErrorResponses.outOfSpace(cause);
          if (noSpace != null) {
            ex.error(HttpResponseStatus.INSUFFICIENT_STORAGE, "could not store the copy: " + noSpace);
          } else {
            ex.error(HttpResponseStatus.SERVICE_UNAVAILABLE, "could not store the copy: " + cause.getMessage());
          }
        }
      }
    }

    @Override
    public void abort() {
      if (body.refCnt() > 0) {
        body.release();
      }
      if (merged != null) {
        merged.release();
        merged = null;
      }
      ex.server().uploads().release(reserved);
      reserved = 0;
    }
  }

  private static void delete(Exchange ex, String rest) {
    Fid fid;
    try {
      fid = Fid.parse(rest);
    } catch (IllegalArgumentException e) {
      ex.refuse(HttpResponseStatus.BAD_REQUEST, e.getMessage());
      return;
    }
    ex.server().transforms().deleteOriginal(fid, ex.server().blocking()).whenComplete((deleted, failure) ->
        ex.onEventLoop(() -> {
          if (failure == null) {
            ex.respond(ex.server().json().response(ex.alloc(), HttpResponseStatus.OK,
                Map.of("deleted", deleted)));
            return;
          }
          Throwable cause = failure instanceof CompletionException && failure.getCause() != null
              ? failure.getCause() : failure;
          ex.error(cause instanceof UnavailableException ? HttpResponseStatus.SERVICE_UNAVAILABLE
              : cause instanceof IllegalArgumentException ? HttpResponseStatus.CONFLICT
              : HttpResponseStatus.INTERNAL_SERVER_ERROR, cause.getMessage());
        }, () -> { }));
  }
}
