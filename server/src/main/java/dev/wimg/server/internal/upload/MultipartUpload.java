package dev.wimg.server.internal.upload;

import dev.wimg.server.internal.http.BodySink;
import dev.wimg.server.internal.http.Exchange;
import dev.wimg.storage.NewFile;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.multipart.DefaultHttpDataFactory;
import io.netty.handler.codec.http.multipart.FileUpload;
import io.netty.handler.codec.http.multipart.HttpPostMultipartRequestDecoder;
import io.netty.handler.codec.http.multipart.HttpPostRequestDecoder;
import io.netty.handler.codec.http.multipart.InterfaceHttpData;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A {@code multipart/form-data} upload body (RFC 7578): every part named {@value #FILE_PART} that
 * carries a file is stored, with its filename and Content-Type. Other form fields are ignored; a
 * file part under another name is an error, so that a typo does not silently store nothing.
 *
 * <p>Decoded by Netty's {@link HttpPostMultipartRequestDecoder} with disk use off: parts are kept in pooled
 * memory, bounded by the upload limit and counted against the upload budget.
 *
 * <p>Confined to the event loop until {@link #finish()}; after it, the decoder's buffers belong to
 * the store writes and are released when they complete.
 */
final class MultipartUpload implements BodySink {

  /** The form field name of files. */
  static final String FILE_PART = "file";
  /** Most form fields (file parts and others) in one request. */
  static final int MAX_FIELDS = 128;
  /** Netty's value for "no limit on the number of fields". */
  private static final int UNLIMITED_FIELDS = -1;
  /** Most undecoded bytes the decoder may buffer, e.g. for one part's headers: 64 KiB. */
  static final int MAX_BUFFERED_BYTES = 64 << 10;
  /** Longest boundary RFC 2046 allows, characters. */
  static final int MAX_BOUNDARY_CHARS = 70;
  /** Decoded bytes after which the decoder compacts its buffer: 1 MiB. */
  static final int DISCARD_THRESHOLD = 1 << 20;

  private final UploadHandler owner;
  private final Exchange ex;
  private final UploadQuota quota;
  private final HttpPostMultipartRequestDecoder decoder;
  /** Parts decoded so far. */
  private int parts;
  private boolean released;

  /**
   * @throws IllegalArgumentException if the Content-Type has no usable boundary (decoding it as
   *     a url-encoded form instead, as Netty's generic decoder would, could only mislead)
   */
  MultipartUpload(UploadHandler owner, Exchange ex, long limit, long reserved) {
    this.owner = owner;
    this.ex = ex;
    this.quota = new UploadQuota(owner, ex, limit, reserved);
    DefaultHttpDataFactory factory = new DefaultHttpDataFactory(false, StandardCharsets.UTF_8);
    factory.setMaxLimit(limit);
    String boundary = boundaryOf(ex.request().headers().get(HttpHeaderNames.CONTENT_TYPE));
    // Netty's decoder matches the media type case-sensitively and fails with an unchecked
    // exception on an empty boundary: it gets the boundary checked above, in a form it reads.
    ex.request().headers().set(HttpHeaderNames.CONTENT_TYPE, "multipart/form-data; boundary=\"" + boundary + "\"");
    try {
      // No field limit in the decoder: past its limit it drops the part it just decoded without
      // releasing it (a leak), so the count is checked here after each piece instead.
      this.decoder = new HttpPostMultipartRequestDecoder(factory, ex.request(), StandardCharsets.UTF_8,
          UNLIMITED_FIELDS, MAX_BUFFERED_BYTES);
    } catch (DecoderException e) {
      throw new IllegalArgumentException("malformed multipart/form-data request: " + message(e), e);
    }
    decoder.setDiscardThreshold(DISCARD_THRESHOLD);
  }

  /**
   * The boundary parameter of a {@code multipart/form-data} Content-Type (RFC 2046 section 5.1.1:
   * 1 to 70 characters, quoted or not; parameter names are case-insensitive).
   *
   * @throws IllegalArgumentException if there is none or it is not a valid boundary
   */
  static String boundaryOf(String contentType) {
    String[] fields = contentType.split(";", -1);
    for (int i = 1; i < fields.length; i++) {
      String parameter = fields[i].strip();
      int eq = parameter.indexOf('=');
      if (eq < 0 || !parameter.substring(0, eq).strip().equalsIgnoreCase("boundary")) {
        continue;
      }
      String value = parameter.substring(eq + 1).strip();
      if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
        value = value.substring(1, value.length() - 1);
      }
      if (value.isEmpty() || value.length() > MAX_BOUNDARY_CHARS || !isBoundary(value)) {
        throw new IllegalArgumentException("malformed multipart/form-data request: the boundary must be 1 to "
            + MAX_BOUNDARY_CHARS + " letters, digits or '()+_,-./:=? (RFC 2046)");
      }
      return value;
    }
    throw new IllegalArgumentException("malformed multipart/form-data request: no boundary in its Content-Type");
  }

  /** RFC 2046 bchars (a space only inside, not last). */
  private static boolean isBoundary(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      boolean bchar = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
          || "'()+_,-./:=?".indexOf(c) >= 0 || c == ' ' && i < value.length() - 1;
      if (!bchar) {
        return false;
      }
    }
    return true;
  }

  @Override
  public boolean add(HttpContent content) {
    if (!quota.admit(content, this::abort)) {
      return false;
    }
    try {
      decoder.offer(content);
      if (countNewParts() > MAX_FIELDS) {
        abort();
        ex.closeAfterResponse();
        ex.error(HttpResponseStatus.BAD_REQUEST, "multipart body has more than " + MAX_FIELDS + " parts");
        return false;
      }
    } catch (DecoderException e) {
      abort();
      ex.closeAfterResponse();
      ex.error(HttpResponseStatus.BAD_REQUEST, "malformed multipart body: " + message(e));
      return false;
    } finally {
      content.release();
    }
    return true;
  }

  /** Counts the parts the decoder completed since the last call; returns the total. */
  private int countNewParts() {
    try {
      while (decoder.hasNext()) {
        decoder.next();
        parts++;
      }
    } catch (HttpPostRequestDecoder.EndOfDataDecoderException end) {
      // every part is counted
    }
    return parts;
  }

  @Override
  public void finish() {
    List<NewFile> files = new ArrayList<>();
    try {
      List<InterfaceHttpData> parts = decoder.getBodyHttpDatas();
      if (decoder.currentPartialHttpData() != null) {
        throw new IllegalArgumentException("multipart body ends inside a part: its closing delimiter is missing");
      }
      if (parts.isEmpty() && quota.received() > 0) {
        throw new IllegalArgumentException(
            "multipart body has no complete part: part headers must end with a blank line");
      }
      for (InterfaceHttpData data : parts) {
        if (!(data instanceof FileUpload upload)) {
          if (data.getName().equals(FILE_PART)) {
            throw new IllegalArgumentException("multipart part \"" + FILE_PART + "\" has no filename");
          }
          continue;
        }
        if (!upload.getName().equals(FILE_PART)) {
          throw new IllegalArgumentException("multipart file parts must be named \"" + FILE_PART
              + "\", got \"" + upload.getName() + "\"");
        }
        if (!upload.isCompleted()) {
          throw new IllegalArgumentException("multipart part \"" + FILE_PART + "\" is incomplete");
        }
        String name = UploadHandler.checkedName(upload.getFilename());
        String mime = UploadHandler.storedMime(upload.getContentType());
        List<ByteBuffer> bytes = Arrays.asList(upload.getByteBuf().nioBuffers());
        files.add(new NewFile(name, mime, System.currentTimeMillis(), bytes));
      }
      if (files.isEmpty()) {
        throw new IllegalArgumentException("multipart body has no file part named \"" + FILE_PART + "\"");
      }
    } catch (IllegalArgumentException e) {
      release();
      ex.error(HttpResponseStatus.BAD_REQUEST, e.getMessage());
      return;
    } catch (DecoderException | IOException e) {
      release();
      ex.error(HttpResponseStatus.BAD_REQUEST, "malformed multipart body: " + message(e));
      return;
    }
    owner.store(ex, files, files.size() > 1, this::release);
  }

  @Override
  public void abort() {
    release();
  }

  private void release() {
    if (released) {
      return;
    }
    released = true;
    // destroy() frees the finished parts only: a part cut off by the end of the body or by an
    // error is still the decoder's partial one, holding a copy of its bytes.
    InterfaceHttpData partial = decoder.currentPartialHttpData();
    if (partial != null && partial.refCnt() > 0) {
      partial.release(partial.refCnt());
    }
    decoder.destroy();
    quota.releaseReservation();
  }

  private static String message(Exception e) {
    Throwable root = e;
    while (root.getCause() != null && root.getMessage() == null) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
  }
}
