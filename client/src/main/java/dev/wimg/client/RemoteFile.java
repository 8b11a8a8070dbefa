package dev.wimg.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;
import java.time.Duration;

/**
 * A stored file read through {@code Range} requests, as {@link WimgClient#open} returns it: reads at
 * the channel's position fetch a window of {@link #WINDOW_BYTES} from there (or what is left of
 * the file), kept until a read needs bytes outside it. Each answer must be {@code 206} with
 * exactly the range asked and, when the file had an ETag, the same ETag ({@code If-Range}), so
 * bytes of two versions of a file are never mixed. Not thread-safe, as {@link SeekableByteChannel}
 * allows.
 */
final class RemoteFile implements SeekableByteChannel {

  /** Bytes fetched per request. */
  static final int WINDOW_BYTES = 1 << 20;

  private final HttpClient http;
  private final URI url;
  private final String etag;
  private final long size;
  private final Duration timeout;
  private long position;
  private byte[] window = new byte[0];
  private long windowStart;
  private boolean open = true;

  RemoteFile(HttpClient http, URI url, String etag, long size, Duration timeout) {
    this.http = http;
    this.url = url;
    this.etag = etag;
    this.size = size;
    this.timeout = timeout;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    checkOpen();
    if (position >= size) {
      return -1;
    }
    if (!dst.hasRemaining()) {
      return 0;
    }
    if (position < windowStart || position >= windowStart + window.length) {
      fetch(position, Math.min(size, position + Math.max(WINDOW_BYTES, dst.remaining())) - 1);
    }
    int from = (int) (position - windowStart);
    int n = Math.min(dst.remaining(), window.length - from);
    dst.put(window, from, n);
    position += n;
    return n;
  }

  private void fetch(long first, long last) throws IOException {
    HttpRequest.Builder request = HttpRequest.newBuilder(url).timeout(timeout).header("User-Agent", "wimg-client")
        .header("Range", "bytes=" + first + "-" + last);
    if (etag != null) {
      request.header("If-Range", etag);
    }
    HttpResponse<InputStream> r;
    try {
      r = http.send(request.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("GET " + url + " interrupted");
    }
    try (InputStream in = r.body()) {
      String range = r.headers().firstValue("Content-Range").orElse("");
      if (r.statusCode() != 206 || !range.equals("bytes " + first + "-" + last + "/" + size)) {
        throw new IOException("GET " + url + " bytes " + first + "-" + last + " answered " + r.statusCode()
            + " " + range + ": not that range of the file (replaced or deleted since it was opened?)");
      }
      byte[] bytes = in.readNBytes((int) (last - first + 1));
      if (bytes.length != last - first + 1 || in.read() >= 0) {
        throw new IOException("GET " + url + " bytes " + first + "-" + last + " sent " + bytes.length + " bytes");
      }
      window = bytes;
      windowStart = first;
    }
  }

  @Override
  public int write(ByteBuffer src) {
    throw new NonWritableChannelException();
  }

  @Override
  public long position() throws IOException {
    checkOpen();
    return position;
  }

  @Override
  public SeekableByteChannel position(long newPosition) throws IOException {
    checkOpen();
    if (newPosition < 0) {
      throw new IllegalArgumentException("position must be 0 or more, got " + newPosition);
    }
    position = newPosition;
    return this;
  }

  @Override
  public long size() throws IOException {
    checkOpen();
    return size;
  }

  @Override
  public SeekableByteChannel truncate(long size) {
    throw new NonWritableChannelException();
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public void close() {
    open = false;
    window = new byte[0];
  }

  private void checkOpen() throws ClosedChannelException {
    if (!open) {
      throw new ClosedChannelException();
    }
  }
}
