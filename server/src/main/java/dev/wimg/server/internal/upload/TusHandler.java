package dev.wimg.server.internal.upload;

import dev.wimg.server.internal.headers.HttpDateCache;
import dev.wimg.server.internal.http.BodySink;
import dev.wimg.server.internal.http.Exchange;
import dev.wimg.server.internal.http.Router;
import dev.wimg.server.internal.http.ServerContext;
import dev.wimg.server.internal.large.Manifest;
import dev.wimg.storage.NewFile;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Resumable uploads by the tus protocol 1.0.0 (https://tus.io/protocols/resumable-upload) on
 * {@code /uploads/}: core, creation, creation-with-upload, termination, expiration, checksum
 * ({@code sha256}, and {@code sha1}, which tuspy sends) and concatenation, so tus clients (tus-js-client, Uppy, tuspy, tus-java-client)
 * work unchanged. The bytes are stored as chunk needles as they arrive ({@link ChunkStream}); each
 * {@code PATCH} is acknowledged once its bytes are chunks in the store and the upload's new state
 * is on disk ({@link TusUploads}). The last one writes the file's manifest and answers its fid in
 * {@code X-Wimg-Fid}; {@code GET /uploads/<id>} answers JSON: {@code {"fid","size"}} once complete,
 * {@code {"offset","length"}} before.
 *
 * <pre>
 *   OPTIONS  /uploads/        the server's tus capabilities
 *   POST     /uploads/        create (Upload-Length, Upload-Metadata, Upload-Concat); a body of
 *                             application/offset+octet-stream is its first PATCH
 *   HEAD     /uploads/&lt;id&gt;   Upload-Offset, Upload-Length
 *   PATCH    /uploads/&lt;id&gt;   append at Upload-Offset (409 elsewhere); Upload-Checksum checked (460)
 *   DELETE   /uploads/&lt;id&gt;   termination: the upload and its chunks are gone
 *   GET      /uploads/&lt;id&gt;   the upload as JSON (a WIMG extension)
 * </pre>
 *
 * Every request but {@code OPTIONS} and {@code GET} needs {@code Tus-Resumable: 1.0.0} (412 else)
 * and, when the server has one, the write key.
 */
public final class TusHandler {

  static final String PREFIX = "/uploads/";
  private static final String VERSION = "1.0.0";
  private static final String EXTENSIONS =
      "creation,creation-with-upload,termination,expiration,checksum,concatenation";
  private static final String OFFSET_OCTET_STREAM = "application/offset+octet-stream";
  /** Header of the last PATCH (and of a final concatenation) naming the finished file's fid. */
  public static final String FID_HEADER = "X-Wimg-Fid";
  /** Longest Upload-Metadata kept. */
  static final int MAX_METADATA_BYTES = 4096;

  private final ServerContext server;
  private final UploadHandler owner;

  public TusHandler(ServerContext server) {
    this.server = server;
    this.owner = new UploadHandler(server);
  }

  /** Whether {@code path} is one of these endpoints. */
  public static boolean handles(String path) {
    return path.equals("/uploads") || path.startsWith(PREFIX);
  }

  /** Handles a request to {@code /uploads...}; returns the sink of a body, or null. */
  public BodySink route(Exchange ex) {
    String path = ex.target().path();
    HttpMethod method = ex.request().method();
    String id = path.equals("/uploads") || path.equals(PREFIX) ? null : path.substring(PREFIX.length());
    if (method == HttpMethod.OPTIONS) {
      FullHttpResponse r = empty(HttpResponseStatus.NO_CONTENT);
      r.headers().set("Tus-Version", VERSION).set("Tus-Extension", EXTENSIONS)
          .set("Tus-Max-Size", server.config().maxUploadBytes())
          .set("Tus-Checksum-Algorithm", "sha256,sha1");
      ex.respond(r);
      return null;
    }
    if (method == HttpMethod.GET && id != null) {
      show(ex, id);
      return null;
    }
    if (!VERSION.equals(ex.request().headers().get("Tus-Resumable"))) {
      FullHttpResponse r = error(ex, HttpResponseStatus.PRECONDITION_FAILED,
          "Tus-Resumable: " + VERSION + " is required");
      r.headers().set("Tus-Version", VERSION);
      if (ex.hasBody()) {
        ex.closeAfterResponse();
      }
      ex.respond(r);
      return null;
    }
    if (!server.writeAuth().permits(ex.request())) {
      Router.unauthorized(ex);
      return null;
    }
    if (method == HttpMethod.POST || method == HttpMethod.PATCH) {
      // as for POST /files: a node that takes no uploads now says so before any byte is stored
      String notMember = server.membership().refusal();
      if (notMember != null) {
        refuse(ex, HttpResponseStatus.SERVICE_UNAVAILABLE, notMember);
        return null;
      }
      String lowSpace = server.membership().lowSpace();
      if (lowSpace != null) {
        refuse(ex, HttpResponseStatus.INSUFFICIENT_STORAGE, lowSpace);
        return null;
      }
    }
    if (id == null) {
      if (method == HttpMethod.POST) {
        return create(ex);
      }
      refuse(ex, HttpResponseStatus.METHOD_NOT_ALLOWED, "allowed here: OPTIONS, POST");
      return null;
    }
    if (method == HttpMethod.HEAD) {
      head(ex, id);
    } else if (method == HttpMethod.PATCH) {
      return patch(ex, id);
    } else if (method == HttpMethod.DELETE) {
      terminate(ex, id);
    } else {
      refuse(ex, HttpResponseStatus.METHOD_NOT_ALLOWED, "allowed here: OPTIONS, GET, HEAD, PATCH, DELETE");
    }
    return null;
  }

  private FullHttpResponse empty(HttpResponseStatus status) {
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER);
    r.headers().set("Tus-Resumable", VERSION);
    return r;
  }

  private FullHttpResponse error(Exchange ex, HttpResponseStatus status, String message) {
    FullHttpResponse r = server.errors().error(ex.alloc(), status, message);
    r.headers().set("Tus-Resumable", VERSION);
    return r;
  }

  private void refuse(Exchange ex, HttpResponseStatus status, String message) {
    if (ex.hasBody()) {
      ex.closeAfterResponse();
    }
    ex.respond(error(ex, status, message));
  }

  private BodySink create(Exchange ex) {
    HttpHeaders in = ex.request().headers();
    String concat = in.get("Upload-Concat");
    String metadata = in.get("Upload-Metadata");
    if (metadata != null && (metadata.length() > MAX_METADATA_BYTES || !validMetadata(metadata))) {
      refuse(ex, HttpResponseStatus.BAD_REQUEST, "Upload-Metadata must be at most "
          + MAX_METADATA_BYTES + " bytes of comma-separated 'key base64value' pairs");
      return null;
    }
    if (concat != null && concat.startsWith("final;")) {
      concatenate(ex, concat.substring("final;".length()), metadata);
      return null;
    }
    if (concat != null && !concat.equals("partial")) {
      refuse(ex, HttpResponseStatus.BAD_REQUEST, "Upload-Concat must be partial or final;<urls>");
      return null;
    }
    long length;
    try {
      length = Long.parseLong(in.get("Upload-Length", "-1").strip());
    } catch (NumberFormatException e) {
      length = -1;
    }
    if (length < 0) {
      refuse(ex, HttpResponseStatus.BAD_REQUEST, "Upload-Length must be given, a size >= 0"
          + " (Upload-Defer-Length is not supported)");
      return null;
    }
    if (length > server.config().maxUploadBytes()) {
      refuse(ex, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "an upload of " + length
          + " bytes exceeds the limit of " + server.config().maxUploadBytes() + " bytes (Tus-Max-Size)");
      return null;
    }
    TusUploads.Upload upload;
    try {
      upload = server.resumable().create(length, metadata, concat != null);
    } catch (IOException e) {
      refuse(ex, HttpResponseStatus.INTERNAL_SERVER_ERROR, "could not create the upload: " + e.getMessage());
      return null;
    }
    String location = location(ex, upload.id());
    if (length == 0 && !upload.partial()) {
      // nothing to send: the (empty) file exists at once
      finishFile(ex, upload, r -> created(ex, r, location));
      return null;
    }
    boolean withBody = ex.hasBody() && OFFSET_OCTET_STREAM.equals(contentType(ex));
    if (!withBody) {
      created(ex, upload, location);
      return null;
    }
    if (!server.resumable().lock(upload.id())) {
      created(ex, upload, location);
      return null;
    }
    return new Patch(ex, upload, null, null, r -> created(ex, r, location));
  }

  private void created(Exchange ex, TusUploads.Upload upload, String location) {
    FullHttpResponse r = empty(HttpResponseStatus.CREATED);
    r.headers().set(HttpHeaderNames.LOCATION, location)
        .set("Upload-Expires", HttpDateCache.format(upload.expiresAt()))
        .set("Upload-Offset", upload.offset());
    if (upload.fid() != null) {
      r.headers().set(FID_HEADER, upload.fid());
    }
    ex.respond(r);
  }

  /** The upload's URL: absolute, from the Host the client used. */
  private static String location(Exchange ex, String id) {
    String host = ex.request().headers().get(HttpHeaderNames.HOST);
    return host == null || host.isBlank() || host.contains("/") ? PREFIX + id : "http://" + host + PREFIX + id;
  }

  private static String contentType(Exchange ex) {
    String type = ex.request().headers().get(HttpHeaderNames.CONTENT_TYPE);
    return type == null ? null : type.strip().toLowerCase(Locale.ROOT);
  }

  private TusUploads.Upload upload(Exchange ex, String id) {
    TusUploads.Upload u = server.resumable().get(id);
    if (u == null) {
      refuse(ex, HttpResponseStatus.NOT_FOUND, "no such upload (finished uploads are kept until they expire)");
    }
    return u;
  }

  private void head(Exchange ex, String id) {
    TusUploads.Upload u = upload(ex, id);
    if (u == null) {
      return;
    }
    FullHttpResponse r = empty(HttpResponseStatus.OK);
    HttpHeaders out = r.headers();
    out.set("Upload-Offset", u.offset()).set("Upload-Length", u.length())
        .set(HttpHeaderNames.CACHE_CONTROL, "no-store")
        .set("Upload-Expires", HttpDateCache.format(u.expiresAt()));
    if (u.metadata() != null) {
      out.set("Upload-Metadata", u.metadata());
    }
    if (u.partial()) {
      out.set("Upload-Concat", "partial");
    }
    if (u.fid() != null) {
      out.set(FID_HEADER, u.fid());
    }
    ex.respond(r);
  }

  private void show(Exchange ex, String id) {
    TusUploads.Upload u = server.resumable().get(id);
    if (u == null) {
      ex.error(HttpResponseStatus.NOT_FOUND, "no such upload (finished uploads are kept until they expire)");
      return;
    }
    Object body = u.fid() != null ? Map.of("fid", u.fid(), "size", u.length())
        : Map.of("offset", u.offset(), "length", u.length(), "partial", u.partial());
    FullHttpResponse r = server.json().response(ex.alloc(), HttpResponseStatus.OK, body);
    r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    ex.respond(r);
  }

  private void terminate(Exchange ex, String id) {
    TusUploads.Upload u = upload(ex, id);
    if (u == null) {
      return;
    }
    if (!server.resumable().lock(id)) {
      refuse(ex, HttpResponseStatus.CONFLICT, "the upload is taking a PATCH now");
      return;
    }
    try {
      // a finished upload's chunks are its file's: only the record goes
      server.resumable().remove(u, u.fid() == null);
    } catch (IOException e) {
      ex.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "could not remove the upload: " + e.getMessage());
      return;
    } finally {
      server.resumable().unlock(id);
    }
    ex.respond(empty(HttpResponseStatus.NO_CONTENT));
  }

  private BodySink patch(Exchange ex, String id) {
    TusUploads.Upload u = upload(ex, id);
    if (u == null) {
      return null;
    }
    if (!OFFSET_OCTET_STREAM.equals(contentType(ex))) {
      refuse(ex, HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "a PATCH carries Content-Type: " + OFFSET_OCTET_STREAM);
      return null;
    }
    long offset;
    try {
      offset = Long.parseLong(ex.request().headers().get("Upload-Offset", "-1").strip());
    } catch (NumberFormatException e) {
      offset = -1;
    }
    if (offset < 0) {
      refuse(ex, HttpResponseStatus.BAD_REQUEST, "Upload-Offset must be given, an offset >= 0");
      return null;
    }
    byte[] expected = null;
    MessageDigest digest = null;
    String checksum = ex.request().headers().get("Upload-Checksum");
    if (checksum != null) {
      String[] parts = checksum.strip().split(" ", 2);
      String algorithm = parts.length != 2 ? "" : switch (parts[0].toLowerCase(Locale.ROOT)) {
        case "sha256" -> "SHA-256";
        case "sha1" -> "SHA-1"; // what tuspy sends
        default -> "";
      };
      if (algorithm.isEmpty()) {
        refuse(ex, HttpResponseStatus.BAD_REQUEST, "Upload-Checksum: the algorithm must be sha256 or sha1");
        return null;
      }
      try {
        expected = Base64.getDecoder().decode(parts[1].strip());
        digest = MessageDigest.getInstance(algorithm);
      } catch (IllegalArgumentException e) {
        refuse(ex, HttpResponseStatus.BAD_REQUEST, "Upload-Checksum: not base64");
        return null;
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("every Java platform has " + algorithm, e);
      }
    }
    if (!server.resumable().lock(id)) {
      refuse(ex, HttpResponseStatus.CONFLICT, "the upload is taking another PATCH now");
      return null;
    }
    // the state again, under the lock
    u = server.resumable().get(id);
    if (u == null || u.offset() != offset || u.complete()) {
      server.resumable().unlock(id);
      long at = u == null ? -1 : u.offset();
      FullHttpResponse r = error(ex, HttpResponseStatus.CONFLICT, u == null ? "no such upload"
          : u.complete() ? "the upload is complete" : "Upload-Offset is " + offset + ", the upload is at " + at);
      if (u != null) {
        r.headers().set("Upload-Offset", at);
      }
      if (ex.hasBody()) {
        ex.closeAfterResponse();
      }
      ex.respond(r);
      return null;
    }
    long declared = HttpUtil.isTransferEncodingChunked(ex.request()) ? -1
        : HttpUtil.getContentLength(ex.request(), 0L);
    if (declared > u.length() - u.offset()) {
      server.resumable().unlock(id);
      refuse(ex, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "the PATCH carries " + declared
          + " bytes, the upload lacks " + (u.length() - u.offset()));
      return null;
    }
    TusUploads.Upload at = u;
    return new Patch(ex, u, expected, digest, r -> {
      FullHttpResponse response = empty(HttpResponseStatus.NO_CONTENT);
      response.headers().set("Upload-Offset", r.offset())
          .set("Upload-Expires", HttpDateCache.format(at.expiresAt()));
      if (r.fid() != null) {
        response.headers().set(FID_HEADER, r.fid());
      }
      ex.respond(response);
    });
  }

  /**
   * A PATCH's body (or a creation's): appended as chunks from the upload's offset; acknowledged
   * once they are stored and the new state is on disk, the file finished when it is complete.
   */
  private final class Patch implements BodySink {

    private final Exchange ex;
    private final TusUploads.Upload upload;
    private final byte[] expectedDigest;
    private final MessageDigest digest;
    private final java.util.function.Consumer<TusUploads.Upload> answer;
    private final ChunkStream stream;
    private long received;
    private boolean released;

    /**
     * @param expected the body's digest by {@code Upload-Checksum}, or null
     * @param digest   the digest to compute ({@code Upload-Checksum}'s algorithm), or null
     */
    Patch(Exchange ex, TusUploads.Upload upload, byte[] expected, MessageDigest digest,
          java.util.function.Consumer<TusUploads.Upload> answer) {
      this.ex = ex;
      this.upload = upload;
      this.expectedDigest = expected;
      this.answer = answer;
      this.digest = digest;
      this.stream = new ChunkStream(owner, ex, upload.offset(), System.currentTimeMillis(), failure -> {
        unlock();
        ex.closeAfterResponse();
        owner.failed(ex, failure, "part of upload " + upload.id(), List.of());
      });
    }

    private void unlock() {
      if (!released) {
        released = true;
        server.resumable().unlock(upload.id());
      }
    }

    @Override
    public boolean add(HttpContent content) {
      int n = content.content().readableBytes();
      if (received + n > upload.length() - upload.offset()) {
        content.release();
        abort();
        ex.closeAfterResponse();
        ex.respond(error(ex, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "the body is longer than the "
            + (upload.length() - upload.offset()) + " bytes the upload lacks"));
        return false;
      }
      received += n;
      if (digest != null) {
        digest.update(content.content().nioBuffer());
      }
      return stream.take(content, this::abort);
    }

    @Override
    public boolean paused() {
      return stream.paused();
    }

    @Override
    public void finish() {
      stream.end(() -> {
        if (digest != null && !MessageDigest.isEqual(digest.digest(), expectedDigest)) {
          stream.drop();
          unlock();
          ex.respond(error(ex, HttpResponseStatus.valueOf(460, "Checksum Mismatch"),
              "the body's digest is not its Upload-Checksum; nothing of it was kept"));
          return;
        }
        TusUploads.Upload next = upload.appended(stream.chunks(), received);
        try {
          server.resumable().save(next);
        } catch (IOException e) {
          stream.drop();
          unlock();
          ex.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "could not record the upload: " + e.getMessage());
          return;
        }
        if (next.complete() && !next.partial()) {
          finishFile(ex, next, done -> {
            unlock();
            answer.accept(done);
          });
        } else {
          unlock();
          answer.accept(next);
        }
      });
    }

    @Override
    public void abort() {
      stream.drop();
      unlock();
    }
  }

  /**
   * Writes the file of a complete upload (its manifest), records its fid, then runs {@code then}
   * on the event loop; on failure answers the error.
   */
  private void finishFile(Exchange ex, TusUploads.Upload upload, java.util.function.Consumer<TusUploads.Upload> then) {
    Manifest manifest = new Manifest(upload.length(), ChunkStream.CHUNK_BYTES, upload.chunks());
    Map<String, String> meta = metadata(upload.metadata());
    String name = UploadHandler.checkedNameOrNull(meta.get("filename"));
    String mime = UploadHandler.storedMimeOrNull(meta.getOrDefault("filetype", meta.get("contentType")));
    NewFile file = new NewFile(name, mime, System.currentTimeMillis(), List.of(manifest.encode()), true);
    server.store().write(file, ex.ctx().executor()).whenComplete((written, e) -> ex.onEventLoop(() -> {
      if (e != null) {
        owner.failed(ex, e, "the manifest of upload " + upload.id(), List.of());
        return;
      }
      TusUploads.Upload done = upload.finished(written.fid().toString());
      try {
        server.resumable().save(done);
      } catch (IOException failure) {
        // the file exists; the record still says incomplete: a HEAD then shows the full offset
        owner.failed(ex, failure, "the record of upload " + upload.id(), List.of());
        return;
      }
      then.accept(done);
    }, () -> { }));
  }

  /** Upload-Concat: final: the partial uploads named, complete, become one file. */
  private void concatenate(Exchange ex, String urls, String metadata) {
    List<TusUploads.Upload> parts = new ArrayList<>();
    for (String url : urls.strip().split("\\s+")) {
      String path;
      try {
        path = URI.create(url).getPath();
      } catch (IllegalArgumentException e) {
        path = null;
      }
      if (path == null || !path.startsWith(PREFIX)) {
        refuse(ex, HttpResponseStatus.BAD_REQUEST, "Upload-Concat: not an upload URL of this server: " + url);
        return;
      }
      TusUploads.Upload part = server.resumable().get(path.substring(PREFIX.length()));
      if (part == null || !part.partial() || !part.complete()) {
        refuse(ex, HttpResponseStatus.BAD_REQUEST, "Upload-Concat: " + url + " is not a complete partial upload");
        return;
      }
      parts.add(part);
    }
    if (parts.isEmpty()) {
      refuse(ex, HttpResponseStatus.BAD_REQUEST, "Upload-Concat: final names no upload");
      return;
    }
    List<dev.wimg.server.internal.large.Manifest.Chunk> chunks = new ArrayList<>();
    long at = 0;
    for (TusUploads.Upload part : parts) {
      for (Manifest.Chunk c : part.chunks()) {
        chunks.add(new Manifest.Chunk(c.fid(), at + c.offset(), c.size(), c.sha256()));
      }
      at += part.length();
    }
    if (at > server.config().maxUploadBytes()) {
      refuse(ex, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "the parts make " + at
          + " bytes, more than the limit of " + server.config().maxUploadBytes());
      return;
    }
    TusUploads.Upload whole;
    try {
      TusUploads.Upload created = server.resumable().create(at, metadata, false);
      whole = new TusUploads.Upload(created.id(), at, at, metadata, created.expiresAt(), false, chunks, null);
      server.resumable().save(whole);
    } catch (IOException e) {
      refuse(ex, HttpResponseStatus.INTERNAL_SERVER_ERROR, "could not create the upload: " + e.getMessage());
      return;
    }
    String location = location(ex, whole.id());
    finishFile(ex, whole, done -> {
      for (TusUploads.Upload part : parts) {
        try {
          server.resumable().remove(part, false); // its chunks are the file's now
        } catch (IOException e) {
          // the record expires by itself; its chunks are never deleted once finished
        }
      }
      created(ex, done, location);
    });
  }

  /** Upload-Metadata: {@code key base64,key base64,...}; keys without a value map to "". */
  static Map<String, String> metadata(String header) {
    Map<String, String> out = new java.util.HashMap<>();
    if (header == null || header.isBlank()) {
      return out;
    }
    for (String pair : header.split(",")) {
      String[] kv = pair.strip().split(" ", 2);
      if (kv[0].isEmpty()) {
        continue;
      }
      try {
        out.put(kv[0], kv.length == 2 ? new String(Base64.getDecoder().decode(kv[1].strip()), StandardCharsets.UTF_8) : "");
      } catch (IllegalArgumentException e) {
        out.put(kv[0], "");
      }
    }
    return out;
  }

  private static boolean validMetadata(String header) {
    for (String pair : header.split(",")) {
      String[] kv = pair.strip().split(" ", 2);
      if (kv[0].isEmpty() || kv[0].chars().anyMatch(c -> c <= 0x20 || c >= 0x7f)) {
        return false;
      }
      if (kv.length == 2) {
        try {
          Base64.getDecoder().decode(kv[1].strip());
        } catch (IllegalArgumentException e) {
          return false;
        }
      }
    }
    return true;
  }

}
