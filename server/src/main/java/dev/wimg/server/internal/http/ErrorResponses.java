package dev.wimg.server.internal.http;

import dev.wimg.storage.OutOfSpaceException;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Every error the server answers: {@code {"error": "<message>", "status": <code>}} with
 * {@code Content-Type: application/json} and {@code Cache-Control: no-store}. Messages are written
 * for the client; causes of server errors are logged, never sent.
 */
public final class ErrorResponses {

  /** The JSON body of an error. */
  public record ErrorBody(String error, int status) {}

  /** Message of the 404 for every fid that does not resolve, whatever the reason (no oracle). */
  public static final String FILE_NOT_FOUND = "file not found";
  /** Message of the 500 for a needle whose bytes fail their checksum. */
  public static final String CORRUPT = "stored data failed its checksum";
  /** Message of the 500 for a needle whose volume file could not be read (disk read error). */
  public static final String UNREADABLE = "stored data could not be read from disk";

  private final JsonBodies json;

  public ErrorResponses(JsonBodies json) {
    this.json = json;
  }

  /**
   * What ran out if the store failed for lack of space ({@link OutOfSpaceException} in
   * {@code failure} or its causes), as a phrase for the client, or null for any other failure (an
   * I/O error such as EIO, a bug), which stays 500. Writes answer the first with 507.
   */
  /**
   * Why a write or delete was not acknowledged here though another node may take it ({@link
   * UnavailableException}: a 503's message), or null.
   */
  public static String unavailable(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof UnavailableException unavailable) {
        return unavailable.getMessage();
      }
    }
    return null;
  }

  public static String outOfSpace(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof OutOfSpaceException full) {
        return switch (full.reason()) {
          case DEVICE_FULL -> "no space left on the server's storage device";
          case QUOTA -> "the server's disk quota is used up";
          case FILE_SIZE_LIMIT -> "a volume file reached the largest size the server may write";
        };
      }
    }
    return null;
  }

  /** 416 for a {@code size}-byte {@code what} ("file", "picture"), with {@code Content-Range: bytes *}{@code /size}. */
  public FullHttpResponse rangeNotSatisfiable(ByteBufAllocator alloc, String what, long size) {
    FullHttpResponse response = error(alloc, HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
        "range not satisfiable: the " + what + " has " + size + " bytes");
    response.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes */" + size);
    return response;
  }

  public FullHttpResponse error(ByteBufAllocator alloc, HttpResponseStatus status, String message) {
    FullHttpResponse response = json.response(alloc, status, new ErrorBody(message, status.code()));
    response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    return response;
  }
}
