package dev.wimg.server.internal.transform;

import dev.wimg.imaging.ImageRequestException;
import dev.wimg.imaging.TransformSpec;
import dev.wimg.protocol.Fid;
import dev.wimg.server.internal.derived.DerivedIndex;
import dev.wimg.server.internal.derived.TransformKey;
import dev.wimg.server.internal.headers.ByteRange;
import dev.wimg.server.internal.headers.EtagMatcher;
import dev.wimg.server.internal.http.ErrorResponses;
import dev.wimg.server.internal.http.Exchange;
import dev.wimg.server.internal.http.FilePath;
import dev.wimg.server.internal.http.ServerContext;
import dev.wimg.storage.CorruptNeedleException;
import dev.wimg.storage.Store;
import dev.wimg.server.internal.large.LargeFiles;
import dev.wimg.storage.StoredFile;
import dev.wimg.storage.VolumeReadException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET} and {@code HEAD} of {@code /<fid>[/<name>]?<transform>}: a derived picture.
 *
 * <p>Order of checks: query syntax (400), signature when signing is on (403), the transform
 * grammar and presets (400). A URL (path and raw query, {@code sig} included) that passed them
 * once is remembered with the key it resolved to ({@link UrlKeyCache}); when it comes again
 * character for character and its result is in memory, it is answered at once, since the checks
 * depend on nothing else and would pass again. A query that asks for nothing (every parameter at its default) is
 * left to the plain download. Then the answer comes from, in order: the memory cache; the derived
 * store (a plain needle read, 304 on a matching If-None-Match without reading it); the original,
 * read and CRC-checked (404 if gone, 304 on a matching If-None-Match without computing), handed to
 * {@link TransformService#render}. Engine refusals keep their status (400, 415, 422, 501); a full
 * queue is 503 with Retry-After.
 *
 * <p>Reads whose pages are resident run on the event loop, others on the blocking pool, as for
 * downloads. Transforms never run on the event loop.
 *
 * <p>Headers: Content-Type of the output, Content-Length, a strong ETag made of the original's
 * checksum and a hash of the canonical transform ({@link TransformKey#etag}), Cache-Control for a
 * year (content under a URL never changes), nosniff, Accept-Ranges, and {@code Vary: Accept} for
 * {@code format=auto}.
 *
 * <p>Range, as for downloads ({@link ByteRange}): a {@code GET} with one satisfiable byte range
 * gets 206 with Content-Range, one that no byte satisfies 416 with {@code Content-Range: bytes
 * *}{@code /size}, anything else the whole picture. {@code If-Range} must carry the transform's
 * strong ETag for the range to apply; a date never matches, as these answers have no
 * Last-Modified (RFC 9110 §13.1.5). The range is cut from the finished picture, wherever it came
 * from (memory, derived store, a new computation), so its bytes are those a full GET returns.
 */
public final class TransformHandler {

  private static final Logger log = LoggerFactory.getLogger(TransformHandler.class);

  /** A derived picture under a URL never changes: cache it for a year and never revalidate. */
  private static final AsciiString CACHE_FOREVER = AsciiString.cached("public, max-age=31536000, immutable");
  private static final AsciiString X_CONTENT_TYPE_OPTIONS = AsciiString.cached("x-content-type-options");
  private static final AsciiString NOSNIFF = AsciiString.cached("nosniff");
  /**
   * Response headers without trailers and without Netty's per-field checks: names are constants,
   * values are built here (media types of the engine's formats, our ETags, numbers), as in
   * {@code FileReadHandler}.
   */
  private static final HttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);

  /** What a read produced. */
  private sealed interface Outcome {}

  private record Found(StoredFile file) implements Outcome {}

  private record Missing() implements Outcome {}

  private record Failed(Exception cause) implements Outcome {}

  private static final Outcome MISSING = new Missing();

  private final ServerContext server;
  private final TransformService service;

  public TransformHandler(ServerContext server) {
    this.server = server;
    this.service = server.transforms();
  }

  /**
   * Answers a file read that carries a transform query.
   *
   * @return false when the query asks for no transform: the caller serves the original
   */
  public boolean handle(Exchange ex, FilePath path) {
    String rawQuery = ex.target().query();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return false;
    }
    String rawPath = ex.target().path();
    String accept = ex.request().headers().get(HttpHeaderNames.ACCEPT);
    TransformService.Remembered remembered = service.rememberedResult(rawPath, rawQuery, accept);
    if (remembered != null) {
      fromMemory(ex, remembered.key(), remembered.rendition());
      return true;
    }
    TransformQuery query;
    try {
      query = TransformQuery.parse(rawQuery);
    } catch (IllegalArgumentException e) {
      ex.error(HttpResponseStatus.BAD_REQUEST, e.getMessage());
      return true;
    }
    if (query.isEmpty()) {
      return false;
    }
    UrlSigner signer = service.signer();
    if (signer.enabled()) {
      if (query.signature() == null) {
        ex.error(HttpResponseStatus.FORBIDDEN, "transforms need a signed URL on this server: sig is missing");
        return true;
      }
      if (!signer.verify(UrlSigner.message(ex.target().path(), query), query.signature())) {
        ex.error(HttpResponseStatus.FORBIDDEN, "sig does not match this URL");
        return true;
      }
    }
    TransformSpec spec;
    try {
      spec = service.parse(query);
    } catch (ImageRequestException e) {
      refuse(ex, e);
      return true;
    }
    if (spec.isIdentity()) {
      return false;
    }
    TransformKey key = TransformKey.of(path.fid(), spec, accept, service.engine().outputFormats());
    // Every check passed: the same path and query would pass them again.
    service.rememberUrl(rawPath, rawQuery, key);
    TransformService.Rendition hit = service.cached(key);
    if (hit != null) {
      fromMemory(ex, key, hit);
      return true;
    }
    DerivedIndex.Link link = service.derivedLink(key);
    if (link != null) {
      fromDerived(ex, key, spec, accept, link);
    } else {
      fromOriginal(ex, key, spec, accept);
    }
    return true;
  }

  /** Answers from a result in memory; its ETag was computed with it. */
  private void fromMemory(Exchange ex, TransformKey key, TransformService.Rendition hit) {
    if (notModified(ex, hit.etag())) {
      notModifiedResponse(ex, key, hit.etag());
    } else {
      serve(ex, key, hit.etag(), hit.mime(), hit.data(), null);
    }
  }

  private void fromDerived(Exchange ex, TransformKey key, TransformSpec spec, String accept, DerivedIndex.Link link) {
    String etag = key.etag(link.originalChecksum());
    if (notModified(ex, etag)) {
      service.countDerivedHit();
      notModifiedResponse(ex, key, etag);
      return;
    }
    read(ex, service.derivedStore(), link.derived(), outcome -> {
      switch (outcome) {
        case Found(StoredFile file) -> {
          service.countDerivedHit();
          serve(ex, key, etag, link.mime(), file.data(), file);
        }
        case Missing missing -> {
          service.forget(link);
          fromOriginal(ex, key, spec, accept);
        }
        case Failed failed -> {
          log.error("derived picture {} of {} cannot be read; recomputing it", link.derived(), key.original(),
              failed.cause());
          service.forget(link);
          fromOriginal(ex, key, spec, accept);
        }
      }
    });
  }

  private void fromOriginal(Exchange ex, TransformKey key, TransformSpec spec, String accept) {
    read(ex, server.store(), key.original(), outcome -> {
      switch (outcome) {
        case Found(StoredFile file) -> {
          String etag = key.etag(file.checksum());
          if (notModified(ex, etag)) {
            notModifiedResponse(ex, key, etag);
            return;
          }
          service.render(key, spec, file, accept).whenComplete((rendition, failure) -> ex.onEventLoop(() -> {
            if (failure == null) {
              serve(ex, key, rendition.etag(), rendition.mime(), rendition.data(), null);
            } else {
              transformFailed(ex, key, failure);
            }
          }, () -> { }));
        }
        case Missing missing -> ex.error(HttpResponseStatus.NOT_FOUND, ErrorResponses.FILE_NOT_FOUND);
        case Failed(CorruptNeedleException corrupt) -> {
          log.error("refusing to transform {}: needle in volume {} at offset {} failed its check: {}",
              key.original(), corrupt.volume(), corrupt.offset(), corrupt.getMessage());
          ex.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, ErrorResponses.CORRUPT);
        }
        case Failed(VolumeReadException unreadable) -> {
          log.error("cannot transform {}: {}; volume {} marked as needing a check", key.original(),
              unreadable.getMessage(), unreadable.volume());
          ex.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, ErrorResponses.UNREADABLE);
        }
        case Failed(LargeFiles.FileTooLargeException big) ->
            ex.error(HttpResponseStatus.UNPROCESSABLE_ENTITY, big.getMessage());
        case Failed failed -> {
          log.error("reading {} failed", key.original(), failed.cause());
          ex.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "could not read the file");
        }
      }
    });
  }

  /**
   * Reads {@code fid} inline when resident, else on the blocking pool; answers on the event loop.
   * A large file's chunks are gathered into one buffer first, on the blocking pool.
   */
  private void read(Exchange ex, Store store, Fid fid, Consumer<Outcome> then) {
    Consumer<Outcome> whole = outcome -> {
      if (!(outcome instanceof Found(StoredFile file)) || !file.manifest()) {
        then.accept(outcome);
        return;
      }
      long most = server.config().imaging().limits().maxSourceBytes();
      ex.offload(() -> {
        Outcome gathered;
        try {
          gathered = new Found(LargeFiles.gather(server.chunks(), file, most));
        } catch (Exception e) {
          gathered = new Failed(e);
        }
        Outcome result = gathered;
        ex.onEventLoop(() -> then.accept(result), () -> { });
      });
    };
    if (server.tuning().residentReadsInline() && store.isResident(fid)) {
      whole.accept(read(store, fid));
      return;
    }
    ex.offload(() -> {
      Outcome outcome = read(store, fid);
      ex.onEventLoop(() -> whole.accept(outcome), () -> { });
    });
  }

  private static Outcome read(Store store, Fid fid) {
    try {
      StoredFile file = store.read(fid);
      return file == null ? MISSING : new Found(file);
    } catch (Exception e) {
      return new Failed(e);
    }
  }

  private void transformFailed(Exchange ex, TransformKey key, Throwable failure) {
    Throwable cause = failure instanceof CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
    switch (cause) {
      case TransformService.Busy busy -> ex.unavailable(busy.getMessage());
      case ImageRequestException refused -> refuse(ex, refused);
      default -> {
        log.error("transform {} of {} failed", key.canonical(), key.original(), cause);
        ex.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "the transform failed");
      }
    }
  }

  private static void refuse(Exchange ex, ImageRequestException e) {
    ex.error(HttpResponseStatus.valueOf(e.status()), e.getMessage());
  }

  private static boolean notModified(Exchange ex, String etag) {
    String ifNoneMatch = ex.request().headers().get(HttpHeaderNames.IF_NONE_MATCH);
    return ifNoneMatch != null && EtagMatcher.noneMatchHits(ifNoneMatch, etag);
  }

  private static void notModifiedResponse(Exchange ex, TransformKey key, String etag) {
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED,
        Unpooled.EMPTY_BUFFER, HEADERS.newHeaders(), EmptyHttpHeaders.INSTANCE);
    cacheHeaders(response.headers(), key, etag);
    ex.respond(response);
  }

  /**
   * Sends a picture, or the byte range the request asks for. {@code keepAlive} (a stored file
   * whose mapping backs {@code data}) is kept reachable until the write completes; null for a
   * rendition in memory, whose buffer the response itself holds.
   */
  private void serve(Exchange ex, TransformKey key, String etag, String mime, ByteBuffer data,
                     StoredFile keepAlive) {
    ByteBuffer bytes = data.duplicate();
    int size = bytes.remaining();
    ByteRange range = range(ex, etag, size);
    if (range instanceof ByteRange.Unsatisfiable) {
      FullHttpResponse response = server.errors().rangeNotSatisfiable(ex.alloc(), "picture", size);
      response.headers().set(HttpHeaderNames.ACCEPT_RANGES, HttpHeaderValues.BYTES);
      if (key.variesWithAccept()) {
        response.headers().set(HttpHeaderNames.VARY, HttpHeaderNames.ACCEPT);
      }
      ex.respond(response);
      return;
    }
    HttpResponseStatus status = HttpResponseStatus.OK;
    String contentRange = null;
    if (range instanceof ByteRange.Satisfiable part) {
      status = HttpResponseStatus.PARTIAL_CONTENT;
      bytes = bytes.slice(bytes.position() + (int) part.first(), (int) part.length());
      contentRange = part.contentRange(size);
    }
    ByteBuf body = ex.isHead() || !bytes.hasRemaining() ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes);
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body,
        HEADERS.newHeaders(), EmptyHttpHeaders.INSTANCE);
    HttpHeaders out = response.headers();
    out.set(HttpHeaderNames.CONTENT_TYPE, mime);
    out.set(HttpHeaderNames.CONTENT_LENGTH, bytes.remaining());
    out.set(HttpHeaderNames.ACCEPT_RANGES, HttpHeaderValues.BYTES);
    if (contentRange != null) {
      out.set(HttpHeaderNames.CONTENT_RANGE, contentRange);
    }
    out.set(X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    cacheHeaders(out, key, etag);
    ex.respond(response).addListener(f -> Reference.reachabilityFence(keepAlive));
  }

  /** The range a request asks of a {@code size}-byte picture whose ETag is {@code etag}. */
  private static ByteRange range(Exchange ex, String etag, int size) {
    HttpHeaders in = ex.request().headers();
    if (ex.request().method() != HttpMethod.GET || !in.contains(HttpHeaderNames.RANGE)) {
      return ByteRange.IGNORED;
    }
    String ifRange = in.get(HttpHeaderNames.IF_RANGE);
    if (ifRange != null && !EtagMatcher.strongMatch(ifRange.strip(), etag)) {
      return ByteRange.IGNORED;
    }
    return ByteRange.parse(in.get(HttpHeaderNames.RANGE), size);
  }

  private static void cacheHeaders(HttpHeaders out, TransformKey key, String etag) {
    out.set(HttpHeaderNames.ETAG, etag);
    out.set(HttpHeaderNames.CACHE_CONTROL, CACHE_FOREVER);
    if (key.variesWithAccept()) {
      out.set(HttpHeaderNames.VARY, HttpHeaderNames.ACCEPT);
    }
  }
}
