package dev.wimg.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A large file fetched in {@code streams} parallel byte ranges of {@link #RANGE_BYTES}, each
 * written at its place in the target file as it arrives. Every range asks {@code If-Range} with
 * the file's ETag, and must come back as exactly that range ({@code 206} and its
 * {@code Content-Range}), so bytes of two versions are never mixed (a fid's content never changes,
 * but a proxy might serve something else).
 */
final class ParallelDownload {

  /** Bytes per range request. */
  static final int RANGE_BYTES = 16 << 20;

  private final HttpClient http;
  private final URI url;
  private final String etag;
  private final long size;
  private final Duration timeout;
  private final int streams;
  private final AtomicLong cursor = new AtomicLong();

  ParallelDownload(HttpClient http, URI url, String etag, long size, Duration timeout, int streams) {
    this.http = http;
    this.url = url;
    this.etag = etag;
    this.size = size;
    this.timeout = timeout;
    this.streams = streams;
  }

  /** Fetches the whole file into {@code out} (positional writes; its size is set to the file's). */
  void run(FileChannel out) throws IOException {
    try (ExecutorService pool = Executors.newFixedThreadPool(streams,
        Thread.ofVirtual().name("wimg-download-", 0).factory())) {
      List<Future<?>> running = new ArrayList<>();
      for (int i = 0; i < streams; i++) {
        running.add(pool.submit(() -> {
          for (long from; (from = cursor.getAndAdd(RANGE_BYTES)) < size; ) {
            fetch(out, from, Math.min(size, from + RANGE_BYTES) - 1);
          }
          return null;
        }));
      }
      for (Future<?> f : running) {
        try {
          f.get();
        } catch (ExecutionException e) {
          pool.shutdownNow();
          throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (InterruptedException e) {
          pool.shutdownNow();
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("download of " + url + " interrupted");
        }
      }
    }
    if (out.size() != size) {
      throw new IOException("download of " + url + " holds " + out.size() + " bytes, not " + size);
    }
  }

  private void fetch(FileChannel out, long first, long last) throws IOException {
    HttpRequest.Builder request = HttpRequest.newBuilder(url).timeout(timeout)
        .header("User-Agent", "wimg-client").header("Range", "bytes=" + first + "-" + last);
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
        throw new IOException("GET " + url + " bytes " + first + "-" + last + " answered "
            + r.statusCode() + " " + range + ": not that range of the file");
      }
      byte[] buffer = new byte[1 << 20];
      long at = first;
      for (int n; (n = in.read(buffer)) > 0; ) {
        if (at + n > last + 1) {
          throw new IOException("GET " + url + " sent more than bytes " + first + "-" + last);
        }
        ByteBuffer b = ByteBuffer.wrap(buffer, 0, n);
        while (b.hasRemaining()) {
          at += out.write(b, at);
        }
      }
      if (at != last + 1) {
        throw new IOException("GET " + url + " bytes " + first + "-" + last + " broke off at " + at);
      }
    }
  }
}
