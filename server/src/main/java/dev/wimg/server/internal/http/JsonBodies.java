package dev.wimg.server.internal.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/** JSON response bodies, serialized straight into a pooled buffer. */
public final class JsonBodies {

  /** Content-Type of every JSON answer. */
  public static final AsciiString APPLICATION_JSON = AsciiString.cached("application/json");

  private final ObjectMapper mapper;

  public JsonBodies(ObjectMapper mapper) {
    this.mapper = mapper;
  }

  /** A complete response whose body is {@code value} as JSON. */
  public FullHttpResponse response(ByteBufAllocator alloc, HttpResponseStatus status, Object value) {
    ByteBuf body = alloc.buffer(256);
    try {
      mapper.writeValue((OutputStream) new ByteBufOutputStream(body), value);
    } catch (IOException e) {
      body.release();
      throw new UncheckedIOException("cannot serialize " + value.getClass().getSimpleName(), e);
    } catch (RuntimeException e) {
      body.release();
      throw e;
    }
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, APPLICATION_JSON);
    return response;
  }
}
