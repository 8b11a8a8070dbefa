package dev.wimg.server.internal;

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

  private final JsonBodies json;

  public ErrorResponses(JsonBodies json) {
    this.json = json;
  }

  public FullHttpResponse error(ByteBufAllocator alloc, HttpResponseStatus status, String message) {
    FullHttpResponse response = json.response(alloc, status, new ErrorBody(message, status.code()));
    response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    return response;
  }
}
