package dev.wimg.server.internal.files;

import dev.wimg.protocol.Fid;
import dev.wimg.server.internal.headers.ByteRange;
import dev.wimg.server.internal.headers.ContentDisposition;
import dev.wimg.server.internal.headers.EtagMatcher;
import dev.wimg.server.internal.headers.HttpDateCache;
import dev.wimg.server.internal.headers.MimeTypes;
import dev.wimg.server.internal.http.ErrorResponses;
import dev.wimg.server.internal.http.Exchange;
import dev.wimg.server.internal.http.FilePath;
import dev.wimg.server.internal.http.ServerContext;
import dev.wimg.server.internal.large.Manifest;
import dev.wimg.server.internal.transform.TransformHandler;
import dev.wimg.storage.CorruptNeedleException;
import dev.wimg.storage.Store;
import dev.wimg.storage.StoredFile;
import dev.wimg.storage.VolumeReadException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET} and {@code HEAD} of {@code /<fid>[/<name>]}.
 *
 * <p>Where the read runs: the event loop asks the store whether the needle's pages are resident;
 * if so it reads (and CRC-checks) inline, which costs microseconds. Otherwise the read, which may
 * page-fault on a cold mapping, runs on the blocking pool and the response is written back on the
 * event loop. A needle that fails its check is answered with 500 and logged; its bytes are never
 * sent. So is a needle whose volume file cannot be read (a disk read error): one log line, and the
 * store marks the volume as needing a check.
 *
 * <p>The body is the verified slice of the memory-mapped volume wrapped as a {@link ByteBuf}: no
 * copy to the heap. The {@link StoredFile} is kept reachable until the write completes, as its
 * contract requires for the mapping to stay valid.
 *
 * <p>Headers: Content-Type (stored type, else guessed from the URL name or the stored name, else
 * application/octet-stream), Content-Length, ETag, Last-Modified, {@code Cache-Control: public,
 * max-age=31536000, immutable} (content under a fid never changes), Accept-Ranges, and
 * Content-Disposition {@code inline} when a name is known; a type not safe inline
 * ({@link MimeTypes#isSafeInline}) gets {@code attachment} and {@code Content-Security-Policy:
 * sandbox} instead. Conditionals: If-None-Match (weak comparison, lists,
 * {@code *}) wins over If-Modified-Since, both give 304. Range: one byte range with If-Range
 * support gives 206 or 416; anything else gives the whole file (RFC 9110 §14.2).
 *
 * <p>A query that asks for a transform ({@code ?w=300}) goes to the {@link TransformHandler}.
 */
public final class FileReadHandler {

  private static final Logger log = LoggerFactory.getLogger(FileReadHandler.class);

  /** Content under a fid never changes: cache it for a year and never revalidate. */
  private static final AsciiString CACHE_FOREVER = AsciiString.cached("public, max-age=31536000, immutable");
  private static final AsciiString X_CONTENT_TYPE_OPTIONS = AsciiString.cached("x-content-type-options");
  private static final AsciiString NOSNIFF = AsciiString.cached("nosniff");
  private static final AsciiString SANDBOX = AsciiString.cached("sandbox");

  /**
   * Response headers, created without a second header set for trailers, which a full response
   * never sends, and without Netty's per-field validation: every name here is a constant and every
   * value is built by the server from checked parts (the stored Content-Type passed the media-type
   * check at upload, names go through {@link ContentDisposition}, which emits only printable ASCII),
   * so no value can hold CR or LF. The checks cost about 1.5 % of a small-file GET's CPU.
   */
  private static final HttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);

  private final ServerContext server;
  private final TransformHandler transforms;

  public FileReadHandler(ServerContext server) {
    this.server = server;
    this.transforms = new TransformHandler(server);
  }

  public void handle(Exchange ex, FilePath path) {
    if (!server.pieceUploads().admit(ex)) {
      return; // a distribution piece, and this node sends as many as it may: 503
    }
    if (CHUNKS_QUERY.equals(ex.target().query())) {
      chunks(ex, path);
      return;
    }
    if (transforms.handle(ex, path)) {
      return;
    }
    Store store = server.store();
    Fid fid = path.fid();
    if (server.tuning().residentReadsInline() && store.isResident(fid)) {
      readAndAnswer(ex, path, store, fid);
      return;
    }
    ex.offload(() -> {
      StoredFile file;
      try {
        file = store.read(fid);
      } catch (Exception e) {
        ex.onEventLoop(() -> failed(ex, path, e), () -> { });
        return;
      }
      ex.onEventLoop(() -> found(ex, path, file), () -> { });
    });
  }

  /** {@code GET /<fid>?chunks}: a large file's chunks as JSON, for clients that check what they fetch. */
  static final String CHUNKS_QUERY = "chunks";

  /** One chunk as {@code ?chunks} lists it: its fid, where it lies in the file and its SHA-256 (hex). */
  record ChunkEntry(String fid, long offset, long size, String sha256) {}

  /**
   * The answer of {@code ?chunks}; a file that is not a large one has no chunks. Besides the
   * chunks, what a copy of the file needs to be served as this one is: the size it was cut at, its
   * name, type, date, and its checksum (the manifest needle's CRC32C, unsigned, as in its ETag).
   */
  record ChunkList(long size, int chunkSize, String name, String mime, long lastModified, long checksum,
                   java.util.List<ChunkEntry> chunks) {}

  private void chunks(Exchange ex, FilePath path) {
    Store store = server.store();
    ex.offload(() -> {
      Object body;
      HttpResponseStatus status = HttpResponseStatus.OK;
      try {
        StoredFile file = store.read(path.fid());
        if (file == null) {
          status = HttpResponseStatus.NOT_FOUND;
          body = null;
        } else if (!file.manifest()) {
          body = new ChunkList(file.size(), 0, file.name(), file.mime(), file.lastModified(),
              Integer.toUnsignedLong(file.checksum()), java.util.List.of());
        } else {
          Manifest m = Manifest.decode(file.data());
          body = new ChunkList(m.size(), m.chunkSize(), file.name(), file.mime(), file.lastModified(),
              Integer.toUnsignedLong(file.checksum()), m.chunks().stream().map(c -> new ChunkEntry(c.fid().toString(), c.offset(), c.size(),
              java.util.HexFormat.of().formatHex(c.sha256()))).toList());
        }
      } catch (IllegalArgumentException e) {
        log.error("refusing to list the chunks of {}: its manifest is not valid: {}", path.fid(), e.getMessage());
        ex.onEventLoop(() -> ex.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, ErrorResponses.CORRUPT), () -> { });
        return;
      } catch (Exception e) {
        ex.onEventLoop(() -> failed(ex, path, e), () -> { });
        return;
      }
      Object answer = body;
      HttpResponseStatus code = status;
      ex.onEventLoop(() -> {
        if (answer == null) {
          ex.error(code, ErrorResponses.FILE_NOT_FOUND);
          return;
        }
        FullHttpResponse r = server.json().response(ex.alloc(), code, answer);
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, CACHE_FOREVER);
        ex.respond(r);
      }, () -> { });
    });
  }

  /** The inline read: no task, no boxed outcome, as it runs for most requests. */
  private void readAndAnswer(Exchange ex, FilePath path, Store store, Fid fid) {
    StoredFile file;
    try {
      file = store.read(fid);
    } catch (Exception e) {
      failed(ex, path, e);
      return;
    }
    found(ex, path, file);
  }

  /** Answers a read that returned {@code file}, null if there is no such file. */
  private void found(Exchange ex, FilePath path, StoredFile file) {
    if (file == null) {
      ex.error(HttpResponseStatus.NOT_FOUND, ErrorResponses.FILE_NOT_FOUND);
    } else {
      serve(ex, path, file);
    }
  }

  private static void failed(Exchange ex, FilePath path, Exception cause) {
    if (cause instanceof CorruptNeedleException corrupt) {
      log.error("refusing to serve {}: needle in volume {} at offset {} failed its check: {}",
          path.fid(), corrupt.volume(), corrupt.offset(), corrupt.getMessage());
      ex.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, ErrorResponses.CORRUPT);
    } else if (cause instanceof VolumeReadException unreadable) {
      log.error("cannot serve {}: {}; volume {} marked as needing a check", path.fid(), unreadable.getMessage(),
          unreadable.volume());
      ex.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, ErrorResponses.UNREADABLE);
    } else {
      log.error("reading {} failed", path.fid(), cause);
      ex.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "could not read the file");
    }
  }

  private void serve(Exchange ex, FilePath path, StoredFile file) {
    HttpRequest request = ex.request();
    HttpHeaders in = request.headers();
    String etag = file.etag();
    Manifest manifest = null;
    if (file.manifest()) {
      try {
        manifest = Manifest.decode(file.data());
      } catch (IllegalArgumentException e) {
        log.error("refusing to serve {}: its manifest is not valid: {}", path.fid(), e.getMessage());
        ex.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, ErrorResponses.CORRUPT);
        return;
      }
    }
    long size = manifest != null ? manifest.size() : file.size();
    long lastModifiedSecond = Math.floorDiv(file.lastModified(), 1000) * 1000;
    AsciiString lastModified = HttpDateCache.format(file.lastModified());

    String ifNoneMatch = in.get(HttpHeaderNames.IF_NONE_MATCH);
    boolean notModified;
    if (ifNoneMatch != null) {
      notModified = EtagMatcher.noneMatchHits(ifNoneMatch, etag);
    } else {
      Long since = HttpDateCache.parseMillis(in.get(HttpHeaderNames.IF_MODIFIED_SINCE));
      notModified = since != null && lastModifiedSecond <= since;
    }
    if (notModified) {
      FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
          HttpResponseStatus.NOT_MODIFIED, Unpooled.EMPTY_BUFFER, HEADERS.newHeaders(), EmptyHttpHeaders.INSTANCE);
      validators(response.headers(), etag, lastModified);
      ex.respond(response);
      return;
    }

    ByteRange range = ByteRange.IGNORED;
    if (request.method() == HttpMethod.GET && in.contains(HttpHeaderNames.RANGE)
        && ifRangeHolds(in.get(HttpHeaderNames.IF_RANGE), etag, lastModifiedSecond)) {
      range = ByteRange.parse(in.get(HttpHeaderNames.RANGE), size);
    }
    if (range instanceof ByteRange.Unsatisfiable) {
      ex.respond(server.errors().rangeNotSatisfiable(ex.alloc(), "file", size));
      return;
    }

    HttpResponseStatus status = HttpResponseStatus.OK;
    long first = 0;
    long length = size;
    String contentRange = null;
    if (range instanceof ByteRange.Satisfiable part) {
      status = HttpResponseStatus.PARTIAL_CONTENT;
      first = part.first();
      length = part.length();
      contentRange = part.contentRange(size);
    }
    HttpHeaders out = HEADERS.newHeaders();
    String mime = MimeTypes.effective(file.mime(), path.name(), file.name());
    out.set(HttpHeaderNames.CONTENT_TYPE, mime);
    out.set(HttpHeaderNames.CONTENT_LENGTH, length);
    validators(out, etag, lastModified);
    out.set(HttpHeaderNames.ACCEPT_RANGES, HttpHeaderValues.BYTES);
    out.set(X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    if (contentRange != null) {
      out.set(HttpHeaderNames.CONTENT_RANGE, contentRange);
    }
    String name = path.name() != null ? path.name() : file.name();
    if (!MimeTypes.isSafeInline(mime)) {
      out.set(HttpHeaderNames.CONTENT_DISPOSITION, ContentDisposition.attachment(name));
      out.set(HttpHeaderNames.CONTENT_SECURITY_POLICY, SANDBOX);
    } else if (name != null && !name.isEmpty()) {
      out.set(HttpHeaderNames.CONTENT_DISPOSITION, ContentDisposition.inline(name));
    }
    if (manifest != null && !ex.isHead() && length > 0) {
      // a large file: streamed from its chunks
      new LargeFileBody(ex, manifest, first, first + length - 1,
          new DefaultHttpResponse(HttpVersion.HTTP_1_1, status, out),
          () -> ex.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, ErrorResponses.CORRUPT)).start();
      return;
    }
    ByteBuf body = ex.isHead() || length == 0 || manifest != null ? Unpooled.EMPTY_BUFFER
        : Unpooled.wrappedBuffer(file.data().slice((int) first, (int) length));
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body,
        out, EmptyHttpHeaders.INSTANCE);
    ex.respond(response).addListener(f -> Reference.reachabilityFence(file));
  }

  private static void validators(HttpHeaders out, String etag, CharSequence lastModified) {
    out.set(HttpHeaderNames.ETAG, etag);
    out.set(HttpHeaderNames.LAST_MODIFIED, lastModified);
    out.set(HttpHeaderNames.CACHE_CONTROL, CACHE_FOREVER);
  }

  /** If-Range (RFC 9110 §13.1.5): absent, or the same strong ETag, or exactly Last-Modified. */
  private static boolean ifRangeHolds(String ifRange, String etag, long lastModifiedSecond) {
    if (ifRange == null) {
      return true;
    }
    String value = ifRange.strip();
    if (value.startsWith("\"") || value.startsWith("W/")) {
      return EtagMatcher.strongMatch(value, etag);
    }
    Long date = HttpDateCache.parseMillis(value);
    return date != null && date == lastModifiedSecond;
  }
}
