package dev.wimg.server.internal.upload;

import dev.wimg.protocol.Fid;
import dev.wimg.server.internal.headers.MimeTypes;
import dev.wimg.server.internal.http.BodySink;
import dev.wimg.server.internal.http.ErrorResponses;
import dev.wimg.server.internal.http.Exchange;
import dev.wimg.server.internal.http.RequestTarget;
import dev.wimg.server.internal.http.Router;
import dev.wimg.server.internal.http.ServerContext;
import dev.wimg.storage.NewFile;
import dev.wimg.storage.WriteResult;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /files}: checks the head, then collects the body with a {@link RawUpload} or a
 * {@link MultipartUpload} and hands the files to the store.
 *
 * <p>Before a byte of the body is read: the write key (401), the {@code Expect} header (417 for
 * anything but {@code 100-continue}), the declared length against the upload limit (413) and
 * against the memory budget shared by all uploads (503 with Retry-After). A refused request whose
 * body may follow closes the connection after the answer. If every check passes and the client
 * sent {@code Expect: 100-continue}, the server sends {@code 100 Continue}.
 *
 * <p>The answer is 201 once the store acknowledged every file (durable under its fsync policy):
 * one JSON object {@code {"fid","url","size","mime","etag"}}, or an array of them when a
 * multipart body carried several {@code file} parts. If any file of a request fails, the others
 * are deleted again and the answer is 507 Insufficient Storage (RFC 4918 section 11.5) when the
 * store ran out of space ({@link #outOfSpace}), else 500.
 */
public final class UploadHandler {

  private static final Logger log = LoggerFactory.getLogger(UploadHandler.class);

  /**
   * One stored file as the client sees it.
   *
   * @param fid  the file id
   * @param url  {@code /<fid>} on this server
   * @param size bytes
   * @param mime the Content-Type it will be served with
   * @param etag its entity tag
   */
  public record UploadResult(String fid, String url, long size, String mime, String etag) {}


  private final ServerContext server;

  public UploadHandler(ServerContext server) {
    this.server = server;
  }

  /** Checks the head of an upload; returns the body's sink, or null after answering an error. */
  public BodySink begin(Exchange ex) {
    HttpRequest request = ex.request();
    if (!server.writeAuth().permits(request)) {
      Router.unauthorized(ex);
      return null;
    }
    String notMember = server.membership().refusal();
    if (notMember != null) {
      ex.refuse(HttpResponseStatus.SERVICE_UNAVAILABLE, notMember);
      return null;
    }
    String lowSpace = server.membership().lowSpace();
    if (lowSpace != null) {
      ex.refuse(HttpResponseStatus.INSUFFICIENT_STORAGE, lowSpace);
      return null;
    }
    boolean expectContinue = false;
    String expect = request.headers().get(HttpHeaderNames.EXPECT);
    if (expect != null && request.protocolVersion() != HttpVersion.HTTP_1_0) {
      if (!expect.strip().equalsIgnoreCase("100-continue")) {
        ex.refuse(HttpResponseStatus.EXPECTATION_FAILED, "unsupported Expect: " + expect);
        return null;
      }
      expectContinue = true;
    }
    boolean chunked = HttpUtil.isTransferEncodingChunked(request);
    long declared = chunked ? -1 : HttpUtil.getContentLength(request, 0L);
    String contentType = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
    if (!isMultipart(contentType) && (declared < 0 || declared > ChunkedUpload.CHUNK_BYTES)) {
      // Large, or of unknown length: stored chunk by chunk as it streams in, in bounded memory.
      if (declared > server.config().maxUploadBytes()) {
        ex.refuse(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "upload of " + declared
            + " bytes exceeds the limit of " + server.config().maxUploadBytes() + " bytes");
        return null;
      }
      BodySink sink;
      try {
        sink = new ChunkedUpload(this, ex, checkedName(nameParameter(ex.target())),
            storedMime(contentType), server.config().maxUploadBytes());
      } catch (IllegalArgumentException e) {
        ex.refuse(HttpResponseStatus.BAD_REQUEST, e.getMessage());
        return null;
      }
      if (expectContinue) {
        ex.ctx().writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
            HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER));
      }
      return sink;
    }
    // No upload held in memory can be larger than the memory all uploads share: past it, it is
    // refused (413) rather than told to retry (503) a request that could never fit.
    long limit = Math.min(server.config().maxUploadBytes(), server.uploads().limitBytes());
    if (declared > limit) {
      ex.refuse(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
          "upload of " + declared + " bytes exceeds the limit of " + limit + " bytes");
      return null;
    }
    long reserved = Math.max(declared, 0);
    if (!server.uploads().tryReserve(reserved)) {
      busy(ex);
      return null;
    }
    BodySink sink;
    try {
      String queryName = nameParameter(ex.target());
      if (isMultipart(contentType)) {
        sink = new MultipartUpload(this, ex, limit, reserved);
      } else {
        String name = checkedName(queryName);
        sink = new RawUpload(this, ex, name, storedMime(contentType), limit, reserved);
      }
    } catch (IllegalArgumentException e) {
      server.uploads().release(reserved);
      ex.refuse(HttpResponseStatus.BAD_REQUEST, e.getMessage());
      return null;
    }
    if (expectContinue) {
      ex.ctx().writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
          Unpooled.EMPTY_BUFFER));
    }
    return sink;
  }

  ServerContext server() {
    return server;
  }

  /** 503 for an upload that does not fit the memory budget; closes if a body would follow. */
  void busy(Exchange ex) {
    ex.unavailable("server is busy with other uploads; retry later");
  }

  /**
   * Writes {@code files} to the store and answers once all are durable. {@code release} frees the
   * request's buffers and budget: it runs exactly once, after the store is done with the bytes.
   */
  void store(Exchange ex, List<NewFile> files, boolean asArray, Runnable release) {
    // The store completes each write on this connection's event loop, where the answer is written.
    List<CompletableFuture<WriteResult>> writes = new ArrayList<>(files.size());
    for (NewFile file : files) {
      try {
        writes.add(server.store().write(file, ex.ctx().executor()));
      } catch (RuntimeException e) {
        writes.add(CompletableFuture.failedFuture(e));
      }
    }
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).whenComplete((ignored, failure) ->
        ex.onEventLoop(() -> {
          release.run();
          answer(ex, files, writes, asArray);
        }, release));
  }

  private void answer(Exchange ex, List<NewFile> files, List<CompletableFuture<WriteResult>> writes,
                      boolean asArray) {
    List<UploadResult> results = new ArrayList<>(writes.size());
    Throwable failure = null;
    for (int i = 0; i < writes.size(); i++) {
      CompletableFuture<WriteResult> write = writes.get(i);
      if (write.isCompletedExceptionally()) {
        failure = write.exceptionNow();
        continue;
      }
      WriteResult written = write.resultNow();
      NewFile file = files.get(i);
      String fid = written.fid().toString();
      results.add(new UploadResult(fid, "/" + fid, written.size(),
          MimeTypes.effective(file.mime(), file.name()), written.etag()));
    }
    if (failure != null) {
      List<Fid> orphans = new ArrayList<>();
      for (CompletableFuture<WriteResult> write : writes) {
        if (!write.isCompletedExceptionally()) {
          orphans.add(write.resultNow().fid());
        }
      }
      failed(ex, failure, files.size() + " file(s)", orphans);
      return;
    }
    created(ex, asArray ? results : results.getFirst(), asArray ? null : results.getFirst().url());
  }

  /** 201 with {@code body} (a result or a list of them), and Location if given. */
  void created(Exchange ex, Object body, String location) {
    FullHttpResponse response = server.json().response(ex.alloc(), HttpResponseStatus.CREATED, body);
    if (location != null) {
      response.headers().set(HttpHeaderNames.LOCATION, location);
    }
    response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    ex.respond(response);
  }

  /**
   * Answers an upload that could not be stored (503 with too few copies, 507 out of space, else
   * 500) unless an answer was sent already, and deletes what it had stored ({@code orphans}).
   */
  void failed(Exchange ex, Throwable failure, String what, List<Fid> orphans) {
    String noSpace = ErrorResponses.outOfSpace(failure);
    String noCopies = ErrorResponses.unavailable(failure);
    if (noCopies != null) {
      log.warn("upload of {} not acknowledged: {}", what, noCopies);
    } else if (noSpace != null) {
      // One line: the store has logged the failed batch with its stack trace already.
      log.warn("upload of {} refused with 507, {}: {}", what, noSpace, failure.getMessage());
    } else {
      log.error("storing an upload of {} failed", what, failure);
    }
    for (Fid orphan : orphans) {
      server.store().delete(orphan).whenComplete((deleted, e) -> {
        if (e != null) {
          log.warn("could not delete {} left by a failed upload", orphan, e);
        }
      });
    }
    if (ex.responded()) {
      return;
    }
    if (noCopies != null) {
      ex.unavailable("could not store the file: " + noCopies);
    } else if (noSpace != null) {
      ex.error(HttpResponseStatus.INSUFFICIENT_STORAGE, "could not store the file: " + noSpace);
    } else {
      ex.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "could not store the file");
    }
  }

  private static boolean isMultipart(String contentType) {
    return contentType != null
        && contentType.strip().toLowerCase(Locale.ROOT).startsWith("multipart/form-data");
  }

  /**
   * The media type to store for a raw body's Content-Type: none for a missing one and for
   * {@code application/x-www-form-urlencoded}, which is what {@code curl --data-binary} sends
   * when not told otherwise and never describes a stored file.
   *
   * @throws IllegalArgumentException if it is longer than {@link NewFile#MAX_MIME_BYTES}
   */
  static String storedMime(String contentType) {
    if (contentType == null || contentType.isBlank()) {
      return null;
    }
    String type = contentType.strip();
    if (type.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
      return null;
    }
    if (type.getBytes(StandardCharsets.UTF_8).length > NewFile.MAX_MIME_BYTES) {
      throw new IllegalArgumentException("Content-Type must be at most " + NewFile.MAX_MIME_BYTES + " bytes");
    }
    if (!isMediaType(type)) {
      throw new IllegalArgumentException("Content-Type must be a media type type/subtype (RFC 9110)");
    }
    return type;
  }

  /**
   * Whether {@code value} is {@code token "/" token}, then nothing or parameters after a
   * {@code ;}, all in visible ASCII, spaces and tabs (RFC 9110 section 8.3.1). Parameters are kept
   * as sent, not parsed further: they are served back verbatim.
   */
  static boolean isMediaType(String value) {
    int slash = tokenEnd(value, 0);
    if (slash == 0 || slash >= value.length() || value.charAt(slash) != '/') {
      return false;
    }
    int end = tokenEnd(value, slash + 1);
    if (end == slash + 1) {
      return false;
    }
    int i = end;
    while (i < value.length() && (value.charAt(i) == ' ' || value.charAt(i) == '\t')) {
      i++;
    }
    if (i < value.length() && value.charAt(i) != ';') {
      return false;
    }
    for (; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c != '\t' && (c < 0x20 || c > 0x7e)) {
        return false;
      }
    }
    return true;
  }

  /** The index of the first character at or after {@code from} that is not an RFC 9110 tchar. */
  private static int tokenEnd(String value, int from) {
    int i = from;
    while (i < value.length() && isTokenChar(value.charAt(i))) {
      i++;
    }
    return i;
  }

  private static boolean isTokenChar(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
        || c < 0x80 && "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }

  /**
   * The {@code name} query parameter of an upload, decoded, or null. It is the only parameter an
   * upload takes: a misspelt one would otherwise be silently ignored.
   *
   * @throws IllegalArgumentException for any other parameter, a repeated {@code name}, or bad
   *     percent-encoding
   */
  static String nameParameter(RequestTarget target) {
    if (target.query() == null) {
      return null;
    }
    String name = null;
    for (String pair : target.query().split("&", -1)) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String key = RequestTarget.percentDecode(eq < 0 ? pair : pair.substring(0, eq), true);
      if (!key.equals("name")) {
        throw new IllegalArgumentException("unknown query parameter " + key + "; an upload takes only name");
      }
      if (name != null) {
        throw new IllegalArgumentException("name given twice");
      }
      name = eq < 0 ? "" : RequestTarget.percentDecode(pair.substring(eq + 1), true);
    }
    return name;
  }

  /** {@link #checkedName}, or null where it would refuse the name (a tus upload's metadata). */
  static String checkedNameOrNull(String name) {
    try {
      return checkedName(name);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** {@link #storedMime}, or null where it would refuse the type (a tus upload's metadata). */
  static String storedMimeOrNull(String type) {
    try {
      return storedMime(type);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * A file name as stored: null for none or empty.
   *
   * @throws IllegalArgumentException if longer than {@link NewFile#MAX_NAME_BYTES} UTF-8 bytes or
   *     if it holds control characters
   */
  static String checkedName(String name) {
    if (name == null || name.isEmpty()) {
      return null;
    }
    if (name.getBytes(StandardCharsets.UTF_8).length > NewFile.MAX_NAME_BYTES) {
      throw new IllegalArgumentException("file name must be at most " + NewFile.MAX_NAME_BYTES + " UTF-8 bytes");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        throw new IllegalArgumentException("file name must not contain control characters");
      }
    }
    return name;
  }
}
