package dev.wimg.transfer;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One keep-alive HTTP/1.1 connection for the bulk bytes of a large transfer: the client's ranges
 * and parts of a large file ({@code ParallelDownload}, {@code ParallelUpload}), and the pieces a
 * storage node fetches for a distribution task or from another group. Everything else goes
 * through the JDK {@code HttpClient}.
 *
 * <p>Why not the JDK client here: it carried 150-230 MB/s per transfer on loopback whatever the
 * number of streams (its reads go through 16 KiB buffers and one selector thread), while a
 * 1 GiB file comes off the server at 2 GB/s. Here a stream reads into one direct buffer that its
 * bytes are hashed and written to the file from, and a request body is sent from the file with
 * {@link FileChannel#transferTo} (sendfile(2): no copy in user space).
 *
 * <p>What it speaks is deliberately narrow, the shapes of WIMG's own answers: a status line,
 * header fields, and a body framed by {@code Content-Length} (or none: {@code HEAD}, 1xx, 204,
 * 304). A chunked or unframed body is refused with an {@link IOException}, and the connection is
 * then not reused. Every wait (connect, send, receive) is bounded by the timeouts given: the
 * channel is non-blocking with a selector of its own, so a stalled peer fails the call instead of
 * hanging the stream.
 */
public final class BulkConnection implements Closeable {

  /** The most a response head may take. */
  public static final int MAX_HEAD_BYTES = 64 << 10;
  /** The most a non-bulk response body (JSON, an error) may take. */
  public static final int MAX_SMALL_BODY_BYTES = 1 << 20;
  private static final int BUFFER_BYTES = 1 << 20;

  private final URI origin;
  private final String hostHeader;
  private final SocketChannel channel;
  private final Selector selector;
  private final long readTimeoutMillis;
  /** Bytes received and not consumed yet: [position, limit). */
  private final ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER_BYTES);
  private boolean reusable = true;
  /** Set by {@link #abort} from another thread: the wait under way ends, and so does the connection. */
  private volatile boolean aborted;
  /** Responses read on this connection, and bytes received on it. */
  private int answered;
  private long received;
  /** The last response; a body not read whole leaves the connection unusable. */
  private Response last;

  private BulkConnection(URI origin, SocketChannel channel, Selector selector, long readTimeoutMillis) {
    this.origin = origin;
    this.channel = channel;
    this.selector = selector;
    this.readTimeoutMillis = readTimeoutMillis;
    int port = origin.getPort();
    this.hostHeader = origin.getHost() + (port < 0 ? "" : ":" + port);
    buffer.limit(0);
  }

  /**
   * Connects to {@code origin} ({@code http} only).
   *
   * @param readTimeout the longest wait for a byte to come or to go
   */
  public static BulkConnection open(URI origin, Duration connectTimeout, Duration readTimeout) throws IOException {
    if (!"http".equalsIgnoreCase(origin.getScheme())) {
      throw new IOException("parallel transfers speak plain http; " + origin + " is not");
    }
    int port = origin.getPort() < 0 ? 80 : origin.getPort();
    SocketChannel channel = SocketChannel.open();
    Selector selector = null;
    try {
      channel.configureBlocking(false);
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      selector = Selector.open();
      BulkConnection c = new BulkConnection(origin, channel, selector, Math.max(1, readTimeout.toMillis()));
      if (!channel.connect(new InetSocketAddress(origin.getHost(), port))) {
        c.await(SelectionKey.OP_CONNECT, Math.max(1, connectTimeout.toMillis()), "connecting");
        channel.finishConnect();
      }
      return c;
    } catch (java.nio.channels.UnresolvedAddressException e) {
      closeQuietly(channel, selector);
      throw new IOException("cannot resolve " + origin.getHost(), e);
    } catch (IOException | RuntimeException e) {
      closeQuietly(channel, selector);
      throw e;
    }
  }

  private static void closeQuietly(SocketChannel channel, Selector selector) {
    try {
      channel.close();
      if (selector != null) {
        selector.close();
      }
    } catch (IOException ignored) {
      // already failing: the first error is the one to report
    }
  }

  public URI origin() {
    return origin;
  }

  /** Whether the last response was read whole and the server keeps the connection open. */
  public boolean reusable() {
    return reusable && channel.isOpen() && (last == null || last.remaining == 0);
  }

  /** A response: its status and header fields (names in lower case); its body is read from the connection. */
  public final class Response {
    public final int status;
    public final Map<String, String> headers;
    /** Body bytes not read yet. */
    public long remaining;

    private Response(int status, Map<String, String> headers, long length) {
      this.status = status;
      this.headers = headers;
      this.remaining = length;
    }

    public String header(String name) {
      return headers.get(name);
    }

    /**
     * Hands the next body bytes to {@code sink} as a view of the connection's buffer (valid until
     * the call returns); returns false once the body is read whole.
     */
    public boolean read(ByteSink sink) throws IOException {
      if (remaining == 0) {
        return false;
      }
      if (!buffer.hasRemaining()) {
        fill();
      }
      int n = (int) Math.min(remaining, buffer.remaining());
      ByteBuffer view = buffer.slice(buffer.position(), n);
      buffer.position(buffer.position() + n);
      remaining -= n;
      sink.accept(view);
      return true;
    }

    /** The body as text (at most {@link #MAX_SMALL_BODY_BYTES}; a longer one is cut and the connection dropped). */
    public String text() throws IOException {
      byte[] out = new byte[(int) Math.min(remaining, MAX_SMALL_BODY_BYTES)];
      int at = 0;
      while (at < out.length) {
        if (!buffer.hasRemaining()) {
          fill();
        }
        int n = Math.min(out.length - at, buffer.remaining());
        buffer.get(out, at, n);
        at += n;
        remaining -= n;
      }
      if (remaining > 0) {
        reusable = false;
      }
      return new String(out, StandardCharsets.UTF_8);
    }
  }

  /** Takes body bytes as they come. */
  @FunctionalInterface
  public interface ByteSink {
    void accept(ByteBuffer bytes) throws IOException;
  }

  /**
   * Sends a request and reads the head of its response. The body, if any, is sent from
   * {@code file}: its bytes {@code [from, from + length)}; {@code progress} is told of each part
   * sent (or null).
   *
   * @param headers field names and values, alternating
   */
  public Response exchange(String method, String target, String[] headers, FileChannel file, long from, long length,
                    java.util.function.LongConsumer progress) throws IOException {
    if (buffer.hasRemaining() || !reusable()) {
      throw new IllegalStateException("the connection to " + origin + " holds an unread response");
    }
    if (file != null || answered == 0) {
      return send(method, target, headers, file, from, length, progress);
    }
    long before = received;
    try {
      return send(method, target, headers, null, 0, 0, progress);
    } catch (AbortedException | InterruptedIOException e) { // timeouts included: not a closed connection
      throw e;
    } catch (IOException e) {
      if (received == before) {
        // a kept-alive connection the server closed meanwhile (its idle timeout): nothing of
        // this request was answered, and a request without a body may be sent again elsewhere
        throw new StaleConnectionException(origin + " had closed the kept-alive connection: " + e.getMessage(), e);
      }
      throw e;
    }
  }

  /**
   * A request without a body found its kept-alive connection closed by the server before any
   * byte of an answer: sending it again on a new connection is safe.
   */
  public static final class StaleConnectionException extends IOException {
    StaleConnectionException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private Response send(String method, String target, String[] headers, FileChannel file, long from, long length,
                        java.util.function.LongConsumer progress) throws IOException {
    StringBuilder head = new StringBuilder(256).append(method).append(' ').append(target)
        .append(" HTTP/1.1\r\nHost: ").append(hostHeader).append("\r\nUser-Agent: wimg\r\n");
    for (int i = 0; i < headers.length; i += 2) {
      head.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
    }
    if (file != null) {
      head.append("Content-Length: ").append(length).append("\r\n");
    }
    head.append("\r\n");
    writeFully(ByteBuffer.wrap(head.toString().getBytes(StandardCharsets.ISO_8859_1)));
    if (file != null) {
      try {
        sendFile(file, from, length, progress);
      } catch (IOException e) {
        // the server may have answered and closed before taking the whole body (a 413, a 401)
        reusable = false;
        try {
          return readResponse(method);
        } catch (IOException noAnswer) {
          e.addSuppressed(noAnswer);
          throw e;
        }
      }
    }
    return readResponse(method);
  }

  private Response readResponse(String method) throws IOException {
    while (true) {
      Response r = readHead(method);
      if (r.status >= 200) {
        answered++;
        return r;
      }
      // 100 Continue and other interim answers carry no body: the real one follows
    }
  }

  private Response readHead(String method) throws IOException {
    // the head is read into the buffer, compacted to its start
    buffer.compact().flip();
    int end;
    while ((end = headEnd()) < 0) {
      if (buffer.limit() >= MAX_HEAD_BYTES) {
        reusable = false;
        throw new IOException(origin + " sent a response head longer than " + MAX_HEAD_BYTES + " bytes");
      }
      fillMore();
    }
    byte[] bytes = new byte[end - buffer.position()];
    buffer.get(bytes);
    buffer.position(buffer.position() + 4);
    String[] lines = new String(bytes, StandardCharsets.ISO_8859_1).split("\r\n");
    String[] status = lines[0].split(" ", 3);
    if (status.length < 2 || !status[0].startsWith("HTTP/1.")) {
      reusable = false;
      throw new IOException(origin + " answered no HTTP/1.x response: " + printable(lines[0]));
    }
    int code;
    try {
      code = Integer.parseInt(status[1]);
    } catch (NumberFormatException e) {
      reusable = false;
      throw new IOException(origin + " answered a bad status line: " + printable(lines[0]));
    }
    Map<String, String> fields = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon <= 0) {
        reusable = false;
        throw new IOException(origin + " sent a bad header line: " + printable(lines[i]));
      }
      fields.merge(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim(),
          (a, b) -> a + ", " + b);
    }
    if ("close".equalsIgnoreCase(fields.get("connection")) || status[0].equals("HTTP/1.0")) {
      reusable = false;
    }
    long length;
    if (code < 200 || code == 204 || code == 304 || method.equals("HEAD")) {
      length = 0;
    } else if (fields.containsKey("transfer-encoding")) {
      reusable = false;
      throw new IOException(origin + " answered " + code + " with a " + fields.get("transfer-encoding")
          + " body, which parallel transfers do not take");
    } else {
      String cl = fields.get("content-length");
      try {
        length = cl == null ? -1 : Long.parseLong(cl);
      } catch (NumberFormatException e) {
        length = -1;
      }
      if (length < 0) {
        reusable = false;
        throw new IOException(origin + " answered " + code + " without a valid Content-Length");
      }
    }
    last = new Response(code, fields, length);
    return last;
  }

  /** Index of the CRLFCRLF ending the head in the buffer, or -1. */
  private int headEnd() {
    for (int i = buffer.position(); i + 3 < buffer.limit(); i++) {
      if (buffer.get(i) == '\r' && buffer.get(i + 1) == '\n' && buffer.get(i + 2) == '\r' && buffer.get(i + 3) == '\n') {
        return i;
      }
    }
    return -1;
  }

  /** Refills the (empty) buffer from the start. */
  private void fill() throws IOException {
    buffer.clear().limit(0);
    fillMore();
  }

  /** Reads more bytes after the buffer's limit; waits at most the read timeout for some. */
  private void fillMore() throws IOException {
    int position = buffer.position();
    buffer.position(buffer.limit()).limit(buffer.capacity());
    try {
      while (true) {
        int n = channel.read(buffer);
        if (n > 0) {
          received += n;
          return;
        }
        if (n < 0) {
          reusable = false;
          throw new EOFException(origin + " closed the connection");
        }
        await(SelectionKey.OP_READ, readTimeoutMillis, "waiting for data");
      }
    } finally {
      buffer.limit(buffer.position()).position(position);
    }
  }

  private void writeFully(ByteBuffer bytes) throws IOException {
    while (bytes.hasRemaining()) {
      if (channel.write(bytes) == 0) {
        await(SelectionKey.OP_WRITE, readTimeoutMillis, "sending");
      }
    }
  }

  private void sendFile(FileChannel file, long from, long length, java.util.function.LongConsumer progress)
      throws IOException {
    long at = from;
    long end = from + length;
    while (at < end) {
      long n = file.transferTo(at, Math.min(end - at, 4 << 20), channel);
      if (n > 0) {
        at += n;
        if (progress != null) {
          progress.accept(n);
        }
      } else if (at >= file.size()) {
        reusable = false;
        throw new IOException("the file ended at " + at + " while it was sent: changed meanwhile?");
      } else {
        await(SelectionKey.OP_WRITE, readTimeoutMillis, "sending");
      }
    }
  }

  private void await(int op, long millis, String doing) throws IOException {
    SelectionKey key = channel.keyFor(selector);
    if (key == null) {
      key = channel.register(selector, op);
    } else {
      key.interestOps(op);
    }
    int ready = aborted ? 0 : selector.select(millis);
    selector.selectedKeys().clear();
    if (aborted) {
      reusable = false;
      throw new AbortedException(origin + ": " + doing + " given up (another stream took the work)");
    }
    if (Thread.currentThread().isInterrupted()) {
      reusable = false;
      throw new InterruptedIOException(doing + " " + origin + " interrupted");
    }
    if (ready == 0) {
      reusable = false;
      throw new SocketTimeoutException(origin + " timed out " + doing + " (" + millis + " ms)");
    }
  }

  /**
   * Ends the exchange under way on this connection from another thread: its wait for bytes ends
   * at once with an {@link AbortedException}, and the connection is not reused.
   */
  public synchronized void abort() {
    aborted = true;
    if (selector.isOpen()) {
      selector.wakeup(); // (a closed selector's wakeup would write to a closed pipe)
    }
  }

  /** The exchange was {@link #abort}ed. */
  public static final class AbortedException extends IOException {
    AbortedException(String message) {
      super(message);
    }
  }

  private static String printable(String s) {
    String cut = s.length() > 120 ? s.substring(0, 120) + "..." : s;
    return cut.replaceAll("[^\\x20-\\x7e]", "?");
  }

  @Override
  public synchronized void close() throws IOException {
    try {
      selector.close();
    } finally {
      channel.close();
    }
  }
}
