package dev.wimg.client;

import dev.wimg.transfer.BulkConnection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A large file sent to one server as tus partial uploads in parallel, then joined
 * ({@code Upload-Concat: final}) into one file (the server's API: docs/API.md, "Resumable
 * uploads").
 *
 * <p>{@link #streams} threads take the next piece of the file from a shared cursor. Each piece is
 * one partial upload created with its bytes ({@code creation-with-upload}: one request), and its
 * size follows the stream's measured rate: what it sends in {@link #TARGET_SECONDS} s, within
 * {@link #MIN_PIECE_BYTES} and {@link #MAX_PIECE_BYTES}; so a faster stream takes larger pieces
 * and carries more of the file.
 *
 * <p>Resumable: the pieces (offset, size, URL, whether the server acknowledged them) are kept in a
 * state file, replaced whole after each one; a run given a state file of the same file (size and
 * modification time) asks the server how far each unfinished piece got ({@code HEAD}), sends only
 * the rest, and goes on from where the pieces ended.
 */
final class ParallelUpload {

  /** First piece of each stream, bytes. */
  static final int FIRST_PIECE_BYTES = 8 << 20;
  static final int MIN_PIECE_BYTES = 4 << 20;
  static final int MAX_PIECE_BYTES = 64 << 20;
  /** A piece should take a stream about this long at its measured rate. */
  static final double TARGET_SECONDS = 2.0;

  /** One piece of the file: a partial upload on the server. */
  record Piece(long offset, long size, String url, boolean done) {}

  private final HttpClient http;
  private final ObjectMapper json;
  private final URI server;
  private final String writeKey;
  private final Duration connectTimeout;
  private final Duration timeout;
  private final Path file;
  private final Path state;
  private final int streams;
  private final WimgClient.ProgressListener listener;
  private final long size;
  private final List<Piece> pieces = new ArrayList<>();
  /** Ranges {offset, length} before {@link #cursor} that no recorded piece covers (a resumed run). */
  private final java.util.ArrayDeque<long[]> holes = new java.util.ArrayDeque<>();
  private long cursor;
  private final AtomicLong sent = new AtomicLong();
  private long resumedBytes;
  /** The file's modification time when the run began (the state file must match it). */
  private long modified;

  ParallelUpload(HttpClient http, ObjectMapper json, URI server, String writeKey, Duration connectTimeout,
                 Duration timeout, Path file, Path state, int streams, WimgClient.ProgressListener listener)
      throws IOException {
    this.http = http;
    this.connectTimeout = connectTimeout;
    this.json = json;
    this.server = server;
    this.writeKey = writeKey;
    this.timeout = timeout;
    this.file = file;
    this.state = state;
    this.streams = streams;
    this.listener = listener;
    this.size = Files.size(file);
  }

  /** Bytes each candidate node is sent by {@link #fastest}. */
  static final int PROBE_BYTES = 1 << 20;

  /**
   * The candidate that took {@link #PROBE_BYTES} of {@code file} fastest: each is sent them at
   * once as a partial upload, timed to its answer, then the part is deleted. A candidate that
   * fails, or stalls for {@link ParallelDownload#STALL_TIMEOUT}, is passed over; when all fail,
   * the first is returned (the upload then reports why).
   */
  static URI fastest(List<URI> candidates, Path file, String writeKey, Duration connectTimeout, Duration timeout)
      throws IOException {
    if (candidates.size() < 2) {
      return candidates.getFirst();
    }
    long bytes = Math.min(PROBE_BYTES, Files.size(file));
    double[] seconds = new double[candidates.size()];
    java.util.Arrays.fill(seconds, Double.MAX_VALUE);
    AtomicLong next = new AtomicLong();
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      ParallelStreams.run(candidates.size(), "wimg-probe-", "probe of " + candidates, () -> {
        int i = (int) next.getAndIncrement();
        URI node = candidates.get(i);
        String[] auth = writeKey == null ? new String[0] : new String[] {"Authorization", "Bearer " + writeKey};
        // a frozen node must not hold the upload up for the request timeout (minutes)
        Duration probeTimeout = timeout.compareTo(ParallelDownload.STALL_TIMEOUT) < 0 ? timeout
            : ParallelDownload.STALL_TIMEOUT;
        try (BulkConnection c = BulkConnection.open(node, connectTimeout, probeTimeout)) {
          long started = System.nanoTime();
          String[] headers = java.util.stream.Stream.concat(java.util.Arrays.stream(new String[] {
              "Tus-Resumable", "1.0.0", "Upload-Length", Long.toString(bytes), "Upload-Concat", "partial",
              "Content-Type", "application/offset+octet-stream"}), java.util.Arrays.stream(auth)).toArray(String[]::new);
          BulkConnection.Response r = c.exchange("POST", "/uploads/", headers, channel, 0, bytes, null);
          String location = r.header("location");
          r.text();
          if (r.status == 201 && location != null) {
            seconds[i] = (System.nanoTime() - started) / 1e9;
            if (c.reusable()) {
              String path = node.resolve(location).getRawPath();
              String[] delete = java.util.stream.Stream.concat(java.util.Arrays.stream(
                  new String[] {"Tus-Resumable", "1.0.0"}), java.util.Arrays.stream(auth)).toArray(String[]::new);
              c.exchange("DELETE", path, delete, null, 0, 0, null).text(); // the probe's part, not kept
            }
          }
        } catch (IOException e) {
          // passed over: another candidate takes the upload
        }
        return null;
      });
    }
    int best = 0;
    for (int i = 1; i < seconds.length; i++) {
      if (seconds[i] < seconds[best]) {
        best = i;
      }
    }
    return candidates.get(best);
  }

  /** Bytes the server held already when this run began (a resumed upload). */
  long resumedBytes() {
    return resumedBytes;
  }

  /** Sends the file; returns the fid of the joined file. */
  String run(String name, String mime) throws IOException {
    modified = Files.getLastModifiedTime(file).toMillis();
    loadState();
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      // unfinished parts of an earlier run first (next() hands them out), then new ones
      ParallelStreams.run(streams, "wimg-upload-", "upload of " + file, () -> {
        stream(channel);
        return null;
      });
    }
    String fid = join(name, mime);
    if (state != null) {
      Files.deleteIfExists(state);
    }
    return fid;
  }

  /** One stream: takes pieces until the file is covered. */
  private void stream(FileChannel channel) throws IOException {
    int pieceBytes = FIRST_PIECE_BYTES;
    try (Link link = new Link()) {
      while (true) {
        Piece piece = next(pieceBytes);
        if (piece == null) {
          return;
        }
        long started = System.nanoTime();
        long carried = send(link, channel, piece);
        finished(piece);
        double seconds = Math.max(1e-3, (System.nanoTime() - started) / 1e9);
        pieceBytes = (int) Math.max(MIN_PIECE_BYTES, Math.min(MAX_PIECE_BYTES, carried / seconds * TARGET_SECONDS));
      }
    }
  }

  /** A stream's connection to the server for the parts' bytes ({@link BulkConnection}), opened again when dropped. */
  private final class Link implements AutoCloseable {
    private BulkConnection connection;

    /** Sends {@code method} to {@code url} with the file's bytes {@code [from, from + length)} as its body. */
    BulkConnection.Response send(String method, URI url, String[] headers, FileChannel channel, long from,
                                 long length) throws IOException {
      if (connection != null && !connection.reusable()) {
        connection.close();
        connection = null;
      }
      if (connection == null) {
        connection = BulkConnection.open(server, connectTimeout, timeout);
      }
      String[] all = java.util.Arrays.copyOf(headers, headers.length + (writeKey == null ? 2 : 4));
      all[headers.length] = "Tus-Resumable";
      all[headers.length + 1] = "1.0.0";
      if (writeKey != null) {
        all[headers.length + 2] = "Authorization";
        all[headers.length + 3] = "Bearer " + writeKey;
      }
      String target = url.getRawPath() + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
      return connection.exchange(method, target, all, channel, from, length, n -> {
        long total = sent.addAndGet(n);
        if (listener != null) {
          listener.progress(total, size);
        }
      });
    }

    @Override
    public void close() throws IOException {
      if (connection != null) {
        connection.close();
      }
    }
  }

  /** The next piece to send: an unfinished one of an earlier run, or a new one of up to {@code bytes}. */
  private synchronized Piece next(int bytes) {
    for (int i = 0; i < pieces.size(); i++) {
      Piece p = pieces.get(i);
      if (!p.done() && p.url() != null && p.url().startsWith("resume:")) {
        Piece taken = new Piece(p.offset(), p.size(), p.url().substring("resume:".length()), false);
        pieces.set(i, taken);
        return taken;
      }
    }
    if (!holes.isEmpty()) {
      long[] hole = holes.peekFirst();
      long n = Math.min(bytes, hole[1]);
      Piece p = new Piece(hole[0], n, null, false);
      hole[0] += n;
      hole[1] -= n;
      if (hole[1] == 0) {
        holes.removeFirst();
      }
      pieces.add(p);
      return p;
    }
    if (cursor >= size) {
      return null;
    }
    long n = Math.min(bytes, size - cursor);
    Piece p = new Piece(cursor, n, null, false);
    cursor += n;
    pieces.add(p);
    return p;
  }

  /** Sends a piece: creates it with its bytes, or sends what the server lacks of an earlier one. */
  private long send(Link link, FileChannel channel, Piece piece) throws IOException {
    if (piece.url() == null) {
      BulkConnection.Response r = link.send("POST", server.resolve("/uploads/"), new String[] {
          "Upload-Length", Long.toString(piece.size()), "Upload-Concat", "partial",
          "Content-Type", "application/offset+octet-stream"}, channel, piece.offset(), piece.size());
      if (r.status != 201) {
        throw failure("creating a part of " + file, r.status, r.text());
      }
      String location = r.header("location");
      if (location == null) {
        throw new IOException(server + " created a part of " + file + " without a Location");
      }
      String url = server.resolve(location).toString();
      long held = parseOffset(r.header("upload-offset"));
      record(piece, url);
      if (held < piece.size()) {
        patch(link, channel, piece, url, held);
      }
      return piece.size();
    }
    HttpResponse<byte[]> head = exchange(request(URI.create(piece.url()))
        .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
    if (head.statusCode() != 200) {
      throw failure("asking how much of " + piece.url() + " the server holds", head);
    }
    long held = Long.parseLong(head.headers().firstValue("Upload-Offset").orElse("0"));
    synchronized (this) {
      resumedBytes += held;
    }
    sent.addAndGet(held);
    if (held < piece.size()) {
      patch(link, channel, piece, piece.url(), held);
    }
    return piece.size() - held;
  }

  private void patch(Link link, FileChannel channel, Piece piece, String url, long from) throws IOException {
    BulkConnection.Response r = link.send("PATCH", URI.create(url), new String[] {
        "Upload-Offset", Long.toString(from), "Content-Type", "application/offset+octet-stream"},
        channel, piece.offset() + from, piece.size() - from);
    if (r.status != 204) {
      throw failure("sending to " + url, r.status, r.text());
    }
  }

  private static long parseOffset(String value) throws IOException {
    try {
      return value == null ? 0 : Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new IOException("the server answered a bad Upload-Offset: " + value);
    }
  }

  /** The server created {@code piece} at {@code url}: kept, so a later run can go on with it. */
  private synchronized void record(Piece piece, String url) throws IOException {
    pieces.set(pieces.indexOf(piece), new Piece(piece.offset(), piece.size(), url, false));
    saveState();
  }

  private synchronized void finished(Piece piece) throws IOException {
    for (int i = 0; i < pieces.size(); i++) {
      Piece p = pieces.get(i);
      if (p.offset() == piece.offset()) {
        pieces.set(i, new Piece(p.offset(), p.size(), p.url(), true));
      }
    }
    saveState();
  }

  /** {@code Upload-Concat: final} of every piece in file order: the file. */
  private String join(String name, String mime) throws IOException {
    StringBuilder urls = new StringBuilder();
    List<Piece> ordered = new ArrayList<>(pieces);
    ordered.sort((a, b) -> Long.compare(a.offset(), b.offset()));
    long at = 0;
    for (Piece p : ordered) {
      if (p.offset() != at || !p.done()) {
        throw new IOException("the parts of " + file + " do not cover it (" + p + " at " + at + ")");
      }
      at += p.size();
      urls.append(urls.isEmpty() ? "" : " ").append(URI.create(p.url()).getPath());
    }
    StringBuilder metadata = new StringBuilder();
    if (name != null && !name.isEmpty()) {
      metadata.append("filename ").append(b64(name));
    }
    if (mime != null && !mime.isEmpty()) {
      metadata.append(metadata.isEmpty() ? "" : ",").append("filetype ").append(b64(mime));
    }
    HttpRequest.Builder request = request(server.resolve("/uploads/"))
        .header("Upload-Concat", "final;" + urls).POST(HttpRequest.BodyPublishers.noBody());
    if (!metadata.isEmpty()) {
      request.header("Upload-Metadata", metadata.toString());
    }
    HttpResponse<byte[]> r = exchange(request.build());
    if (r.statusCode() != 201) {
      throw failure("joining the parts of " + file, r);
    }
    return r.headers().firstValue("X-Wimg-Fid").orElseThrow(() ->
        new IOException(server + " joined the parts of " + file + " without naming its fid"));
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private HttpRequest.Builder request(URI uri) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout)
        .header("Tus-Resumable", "1.0.0").header("User-Agent", "wimg-client");
    if (writeKey != null) {
      b.header("Authorization", "Bearer " + writeKey);
    }
    return b;
  }

  private HttpResponse<byte[]> exchange(HttpRequest request) throws IOException {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofByteArray());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException(request.method() + " " + request.uri() + " interrupted");
    }
  }

  private IOException failure(String what, HttpResponse<byte[]> r) {
    return failure(what, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
  }

  private IOException failure(String what, int status, String body) {
    try {
      JsonNode node = json.readTree(body);
      if (node != null && node.path("error").isTextual()) {
        body = node.get("error").asText();
      }
    } catch (IOException notJson) {
      // the raw text then
    }
    return new WimgException(status, what + ": " + body.strip());
  }

  // ---- the state file ----

  private void loadState() throws IOException {
    if (state == null || !Files.exists(state)) {
      return;
    }
    JsonNode s = json.readTree(Files.readAllBytes(state));
    if (s.path("size").asLong(-1) != size || s.path("modified").asLong(-1) != modified
        || !server.toString().equals(s.path("server").asText())) {
      return; // another file, or the file changed, or another server: start again
    }
    for (JsonNode p : s.path("pieces")) {
      String url = p.hasNonNull("url") ? p.get("url").asText() : null;
      if (url == null) {
        continue; // created nowhere: sent again as a new piece
      }
      boolean done = p.path("done").asBoolean();
      pieces.add(new Piece(p.get("offset").asLong(), p.get("size").asLong(), done ? url : "resume:" + url, done));
      if (done) {
        resumedBytes += p.get("size").asLong();
        sent.addAndGet(p.get("size").asLong());
      }
    }
    pieces.sort((a, b) -> Long.compare(a.offset(), b.offset()));
    // pieces taken but never created leave holes: new pieces fill them before the rest
    long at = 0;
    for (Piece p : pieces) {
      if (p.offset() < at || p.offset() + p.size() > size) {
        pieces.clear();
        holes.clear();
        resumedBytes = 0;
        sent.set(0);
        cursor = 0;
        return; // not this file's pieces after all: start again
      }
      if (p.offset() > at) {
        holes.add(new long[] {at, p.offset() - at});
      }
      at = p.offset() + p.size();
    }
    cursor = at;
  }

  private void saveState() throws IOException {
    if (state == null) {
      return;
    }
    ObjectNode s = json.createObjectNode();
    s.put("file", file.toAbsolutePath().toString()).put("size", size).put("modified", modified)
        .put("server", server.toString());
    ArrayNode list = s.putArray("pieces");
    for (Piece p : pieces) {
      String url = p.url() == null ? null : p.url().startsWith("resume:") ? p.url().substring(7) : p.url();
      list.addObject().put("offset", p.offset()).put("size", p.size()).put("url", url).put("done", p.done());
    }
    Path tmp = state.resolveSibling(state.getFileName() + ".tmp");
    Files.write(tmp, json.writeValueAsBytes(s));
    Files.move(tmp, state, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
