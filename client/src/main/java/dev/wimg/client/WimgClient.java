package dev.wimg.client;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.wimg.protocol.Fid;
import dev.wimg.protocol.TaskStatus;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * A client of a WIMG server, or of several servers and trackers, over HTTP/1.1 with keep-alive.
 *
 * <p>Thread-safe; share one instance. Every method either returns what the server acknowledged or
 * throws an {@link IOException}:
 *
 * <ul>
 *   <li>{@link WimgException} when the server answered with an error status (its JSON
 *       {@code {"error", "status"}} body becomes the message);
 *   <li>{@link ServerUnreachableException}, naming the server URL, when no connection could be
 *       made; for a client of several servers, when every one failed, naming each and why;
 *   <li>{@link BrokenExchangeException} when the exchange broke after the request was sent
 *       (connection closed or reset before the answer, or while a JSON answer was read);
 *   <li>a plain {@link IOException} for a download that broke off (body shorter than its
 *       Content-Length), an answer that is not what the API promises, or a local file problem;
 *   <li>{@link InterruptedIOException} if the calling thread is interrupted (its flag is kept).
 * </ul>
 *
 * <p>A method given a fid that is not one ({@link Fid#parse} refuses it: a path, a typo) throws
 * {@link IllegalArgumentException} before anything is sent.
 *
 * <p>Bodies are streamed: {@link #upload(Path)} sends the file from disk and
 * {@link #download(String, Path)} writes to disk as bytes arrive, so neither holds the file in
 * memory. A write key, when set, is sent as {@code Authorization: Bearer <key>} on uploads,
 * deletes, and the creation and cancelling of distribution tasks only.
 *
 * <p><b>Several servers.</b> A client built with {@link #builder(List)} has a list of base URLs
 * (trackers or servers, which answer the same API). Each call tries them in order, starting with
 * the last one that answered, and wrapping around. It moves on to the next when the current one
 * cannot be connected to (refused, unknown host, connect timeout) or answers {@code 502},
 * {@code 503} or {@code 504}: for an upload too, since those answers mean it was not acknowledged.
 * Any other answer, a {@code 4xx} or a {@code 500} included, is the answer. A request that fails
 * later (the connection breaks, no answer within the request timeout) is not re-sent: an upload
 * might have been stored. When every URL fails, the call throws {@link ServerUnreachableException}
 * listing them; with a single URL it throws what that one failure was ({@code 503} is then a
 * {@link WimgException}, as it is for a client of one server).
 *
 * <p><b>Redirects.</b> A tracker answers reads and deletes of a fid with a redirect
 * ({@code 301}, {@code 302}, {@code 307} or {@code 308}) to a storage node of its group. The client
 * follows at most {@link #MAX_REDIRECTS} of them for {@code GET}, {@code HEAD} and {@code DELETE},
 * with the same method and headers, the write key included (storage nodes take the same key),
 * but never from {@code https} to {@code http}. A storage node that cannot be reached, or answers
 * {@code 502}/{@code 503}/{@code 504}, counts as a failure of the URL that redirected there.
 *
 * <p><b>Storage nodes directly.</b> When its URLs are trackers, the client asks one for the cluster
 * view ({@code GET /cluster}, as {@link #cluster()}) on first use, keeps it for
 * {@link #DEFAULT_CLUSTER_VIEW_TTL} (see {@link Builder#clusterViewTtl}), and sends requests to the
 * storage nodes itself, so that they cost the tracker nothing:
 *
 * <ul>
 *   <li>a download or delete of a fid goes to a member of the fid's group (the number before
 *       {@code -}) that serves reads (state {@code serving} or {@code read-only}), least loaded
 *       first. A member that cannot be connected to or answers {@code 502}/{@code 503}/{@code 504}
 *       makes the client try the group's next member, then the URL list as above (the tracker's
 *       redirect). Any other answer, {@code 404} included, is the answer;
 *   <li>an upload goes to a {@code serving} member of a group the view marks {@code writable},
 *       least loaded first, the writable groups taking turns from one upload to the next. A node
 *       that cannot be connected to or answers any {@code 5xx} (the upload was not acknowledged)
 *       makes the client try another group, then another member, up to
 *       {@link #MAX_DIRECT_UPLOAD_ATTEMPTS} nodes, then {@code POST /files} on the URL list;
 *   <li>after a node failed, the view is fetched again before the next call, and that node is not
 *       asked directly for one TTL (the tracker lists a dead node until it misses its heartbeats).
 *       When no URL answers {@code /cluster}, the view known before is kept for one TTL.
 * </ul>
 *
 * <p><b>Distribution tasks.</b> {@link #distribute}, {@link #task}, {@link #tasks} and
 * {@link #cancelTask} talk to a tracker's {@code /tasks} (docs/DISTRIBUTION.md) through the URL
 * list only, as above: every tracker knows every task (its targets report to all of them), so
 * whichever answers is as good as any. A single server has no {@code /tasks}: it answers
 * {@code 405} to creating a task and {@code 400} to reading one (it reads {@code tasks} as a
 * malformed fid).
 *
 * <p>A single server has no {@code /cluster}: it is used exactly as above, and asked for
 * {@code /cluster} at most once per TTL. A client given {@code https} URLs sends nothing directly to
 * a node listed with an {@code http} URL. {@link Builder#directToNodes(boolean)} turns the direct
 * path off. {@link #server()} and {@link #urlOf} name the URL from the list, never a node: a file's
 * URL on a tracker stays valid when the node serving it changes.
 *
 * <p>Implementation notes: redirects are followed here rather than by {@link HttpClient}: its
 * {@link HttpClient.Redirect#NORMAL} keeps the method on {@code 307}, but drops
 * {@code Authorization} when the redirect leaves the origin (another port is another origin), so a
 * delete sent through a tracker would reach the storage node without its key. Uploads larger than {@link #EXPECT_CONTINUE_THRESHOLD_BYTES} ask
 * {@code Expect: 100-continue} (RFC 9110 §10.1.1), so a body the server refuses (too large, no
 * key) is never sent; small ones are cheaper to just send.
 */
public final class WimgClient implements AutoCloseable {

  /** Where {@code wimg server} listens by default. */
  public static final URI DEFAULT_SERVER = URI.create("http://127.0.0.1:9333");
  /** Default limit for opening a TCP connection. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
  /**
   * Default limit from sending a request to receiving the response headers. It includes sending an
   * upload's whole body, so it also bounds the slowest acceptable upload.
   */
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofMinutes(2);
  /** Uploads of more than this many bytes ask {@code Expect: 100-continue}. */
  public static final long EXPECT_CONTINUE_THRESHOLD_BYTES = 1L << 20;
  /** Bytes of an error body read to build its message; the rest is discarded. */
  static final int MAX_ERROR_BODY_BYTES = 64 << 10;
  /** Largest JSON answer (upload acknowledgement, status) accepted, in bytes. */
  static final int MAX_JSON_BODY_BYTES = 1 << 20;
  /**
   * Largest answer of a task call accepted, in bytes: {@code GET /tasks} lists every task the
   * tracker knows, each with a line per target.
   */
  static final int MAX_TASKS_BODY_BYTES = 16 << 20;
  /**
   * What a task id may look like (a tracker makes 32 hex digits): it goes into a URL path, so
   * nothing that needs escaping or could step out of {@code /tasks/}.
   */
  private static final Pattern TASK_ID = Pattern.compile("[0-9A-Za-z_-]{1,128}");
  /** Characters of a non-JSON error body quoted in a message. */
  private static final int ERROR_SNIPPET_CHARS = 200;
  /** Redirects followed for one request before it fails. */
  public static final int MAX_REDIRECTS = 5;
  /**
   * Default time a cached cluster view is used before it is fetched again (at once after a direct
   * request to a storage node failed).
   */
  public static final Duration DEFAULT_CLUSTER_VIEW_TTL = Duration.ofSeconds(10);
  /** Storage nodes an upload is sent to directly before it goes through the URL list. */
  public static final int MAX_DIRECT_UPLOAD_ATTEMPTS = 3;
  /** Copy buffer for streamed downloads, bytes. */
  private static final int COPY_BUFFER_BYTES = 64 << 10;
  private static final String OCTET_STREAM = "application/octet-stream";

  /** Base URLs, checked by {@link #baseUrls}; never empty. */
  private final List<URI> servers;
  /** Index in {@link #servers} of the URL that answered last: the next call starts there. */
  private final AtomicInteger preferred = new AtomicInteger();
  private final String writeKey;
  /** The key transform URLs are signed with ({@link #url}), or null. */
  private final String signKey;
  private final Duration requestTimeout;
  private final Duration connectTimeout;
  /** Streams of a large transfer, and whether they share its work adaptively (see the Builder). */
  private final int transferStreams;
  private final boolean adaptiveTransfers;
  private final HttpClient http;
  private final ObjectMapper json = new ObjectMapper();
  /** Reads a {@link TaskStatus}, ignoring fields a newer tracker adds within the version. */
  private final ObjectReader taskReader = json.readerFor(TaskStatus.class)
      .without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  /** Whether requests go to storage nodes directly (see the class comment). */
  private final boolean directToNodes;
  /** The cluster view in use and the nodes that failed lately. */
  private final ClusterCache cache;
  /** Counts uploads, so that consecutive uploads start in consecutive writable groups. */
  private final AtomicInteger uploadTurn = new AtomicInteger();

  private WimgClient(Builder b) {
    this.servers = b.servers;
    this.directToNodes = b.directToNodes;
    boolean httpsOnly = servers.stream().anyMatch(u -> u.getScheme().equalsIgnoreCase("https"));
    this.cache = new ClusterCache(b.clusterViewTtl.toNanos(), b.nanoClock, httpsOnly);
    this.writeKey = b.writeKey;
    this.signKey = b.signKey;
    this.requestTimeout = b.requestTimeout;
    this.connectTimeout = b.connectTimeout;
    this.transferStreams = b.transferStreams;
    this.adaptiveTransfers = b.adaptiveTransfers;
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(b.connectTimeout)
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
  }

  /** A client of {@code server} with default timeouts and no write key. */
  public static WimgClient create(URI server) {
    return builder(server).build();
  }

  /**
   * Starts building a client.
   *
   * @param server base URL, {@code http} or {@code https}, host and optional port, no query; a
   *     trailing {@code /} is ignored
   * @throws IllegalArgumentException naming what is wrong with {@code server}
   */
  public static Builder builder(URI server) {
    return new Builder(List.of(baseUrl(server)));
  }

  /**
   * Starts building a client of several servers or trackers, tried in order (see the class
   * comment).
   *
   * @param servers base URLs as for {@link #builder(URI)}; at least one, none twice
   * @throws IllegalArgumentException naming what is wrong with which URL
   */
  public static Builder builder(List<URI> servers) {
    return new Builder(baseUrls(servers));
  }

  /**
   * The base URL, without a trailing slash, of the server that answered last (before any call,
   * the first of {@link #servers()}).
   */
  public URI server() {
    return servers.get(preferred.get());
  }

  /** All base URLs, without trailing slashes, in the order given. */
  public List<URI> servers() {
    return servers;
  }

  /**
   * Uploads a file from disk, streamed. Its name is sent as {@code ?name=}; its media type is
   * guessed from the name ({@link Files#probeContentType}), else {@code application/octet-stream}.
   */
  public UploadResult upload(Path file) throws IOException {
    String mime = Files.probeContentType(file);
    Path name = file.getFileName();
    return upload(file, name == null ? null : name.toString(), mime == null ? OCTET_STREAM : mime);
  }

  /**
   * Uploads a file from disk, streamed, with the given name and media type.
   *
   * @param name file name kept with the file, or null
   * @param mime media type, or null for {@code application/octet-stream}
   */
  public UploadResult upload(Path file, String name, String mime) throws IOException {
    long size = Files.size(file);
    return sendUpload(BodyPublishers.ofFile(file), size, name, mime);
  }

  /** Told how far a transfer got; called from the threads that send, often: keep it quick. */
  @FunctionalInterface
  public interface ProgressListener {
    /**
     * @param done  bytes the server holds or has been sent so far
     * @param total the file's size
     */
    void progress(long done, long total);
  }

  /** Files larger than this go up in parallel parts ({@link #uploadResumable}). */
  public static final long LARGE_FILE_BYTES = 8L << 20;
  /** Nodes {@link #uploadResumable} probes before it chooses where a large file goes. */
  public static final int PROBED_UPLOAD_TARGETS = 3;
  /** Parts sent at once by {@link #uploadResumable}. */
  public static final int DEFAULT_STREAMS = 4;

  /**
   * Uploads a large file in {@link #DEFAULT_STREAMS} parallel streams and resumably, by the
   * server's tus endpoint ({@code /uploads/}, docs/API.md "Resumable uploads"): the file is cut
   * into parts whose size follows each stream's measured rate (a faster stream takes larger
   * parts, between 4 and 64 MiB), each sent as a partial upload, then joined into one file. The
   * parts are recorded in {@code state} as they are created and acknowledged, so that a call after
   * an interruption (the process killed, the connection lost) with the same state file sends only
   * what the server lacks: it asks the server how far each part got. The state file is deleted
   * once the file is stored; one of another file, of this file changed since, or of another server
   * is ignored.
   *
   * <p>Every part goes to one storage node (a tus upload lives where it was created). In a
   * cluster, up to {@link #PROBED_UPLOAD_TARGETS} upload targets of the cluster view are probed
   * first, each sent the file's first MiB at once as a part deleted right after, and the one that
   * took it fastest gets the file; with no cluster view, the first URL.
   *
   * @param state    where the parts are recorded, or null for no resuming
   * @param listener told of the bytes sent (and found held by the server), or null
   * @return the stored file
   */
  public UploadResult uploadResumable(Path file, Path state, ProgressListener listener) throws IOException {
    // the nodes it could go to (one per writable group, at most PROBED_UPLOAD_TARGETS), the fastest by a probe
    List<URI> candidates = routes().uploadTargets(uploadTurn.getAndIncrement(), PROBED_UPLOAD_TARGETS,
        cache::recentlyFailed);
    URI target = candidates.isEmpty() ? servers().getFirst()
        : ParallelUpload.fastest(candidates, file, writeKey, connectTimeout, requestTimeout);
    String mime = Files.probeContentType(file);
    Path fileName = file.getFileName();
    String name = fileName == null ? null : fileName.toString();
    ParallelUpload upload = new ParallelUpload(http, json, target, writeKey, connectTimeout, requestTimeout,
        file, state, transferStreams, listener);
    String fid = upload.run(name, mime == null ? OCTET_STREAM : mime);
    lastResumedBytes = upload.resumedBytes();
    // the stored file as the server serves it: size, type and ETag
    HttpResponse<InputStream> head = send(request(target.resolve("/" + fid))
        .method("HEAD", BodyPublishers.noBody()).build());
    try (InputStream in = head.body()) {
      requireStatus(head, in, 200);
    }
    long size = head.headers().firstValueAsLong("Content-Length").orElse(-1);
    if (size != Files.size(file)) {
      throw new IOException("server " + target + " holds " + size + " bytes as " + fid + ", "
          + Files.size(file) + " were sent");
    }
    return new UploadResult(fid, "/" + fid, size,
        head.headers().firstValue("Content-Type").orElse(mime == null ? OCTET_STREAM : mime),
        head.headers().firstValue("ETag").orElse(null));
  }

  /**
   * Bytes already in place when the last {@link #uploadResumable} (held by the server) or large
   * {@link #download(String, Path, ProgressListener)} (held intact in its part file) began.
   */
  public long lastResumedBytes() {
    return lastResumedBytes;
  }

  private volatile long lastResumedBytes;

  /**
   * Uploads {@code size} bytes read from {@code in}, streamed (the server stores a body over 8 MiB
   * as chunks as it arrives). {@code in} is read once, not closed: unlike the other uploads, this
   * one is not tried on another node after a node failed with it in flight.
   *
   * @param name file name kept with the file, or null
   * @param mime media type, or null for {@code application/octet-stream}
   * @throws IOException also if {@code in} ends before {@code size} bytes
   */
  public UploadResult upload(InputStream in, long size, String name, String mime) throws IOException {
    Objects.requireNonNull(in, "in");
    if (size < 0) {
      throw new IllegalArgumentException("size must be 0 or more, got " + size);
    }
    java.util.concurrent.atomic.AtomicBoolean taken = new java.util.concurrent.atomic.AtomicBoolean();
    BodyPublisher body = BodyPublishers.fromPublisher(BodyPublishers.ofInputStream(() -> {
      if (taken.getAndSet(true)) {
        throw new java.io.UncheckedIOException(new IOException(
            "the upload's stream was read by an attempt that failed; it cannot be sent again"));
      }
      return new java.io.FilterInputStream(in) {
        @Override
        public void close() {
          // the caller's stream: the caller closes it
        }
      };
    }), size);
    return sendUpload(body, size, name, mime);
  }

  /** {@link #upload(Path)} on a thread of the client's; the future fails with the {@link IOException}. */
  public CompletableFuture<UploadResult> uploadAsync(Path file) {
    return async(() -> upload(file));
  }

  /** {@link #uploadResumable} on a thread of the client's; the future fails with the {@link IOException}. */
  public CompletableFuture<UploadResult> uploadResumableAsync(Path file, Path state, ProgressListener listener) {
    return async(() -> uploadResumable(file, state, listener));
  }

  /** {@link #download(String)} on a thread of the client's; the future fails with the {@link IOException}. */
  public CompletableFuture<byte[]> downloadAsync(String fid) {
    return async(() -> download(fid));
  }

  /**
   * {@link #download(String, Path, ProgressListener)} on a thread of the client's; the future
   * fails with the {@link IOException}.
   */
  public CompletableFuture<Long> downloadAsync(String fid, Path target, ProgressListener listener) {
    return async(() -> download(fid, target, listener));
  }

  /** {@link #delete(String)} on a thread of the client's; the future fails with the {@link IOException}. */
  public CompletableFuture<Boolean> deleteAsync(String fid) {
    return async(() -> delete(fid));
  }

  /** A call of this client that may throw {@link IOException}. */
  @FunctionalInterface
  private interface IoCall<T> {
    T call() throws IOException;
  }

  /**
   * Runs {@code call} on a virtual thread; the future completes with its result or fails with
   * what it threw. {@link #close()} does not wait for calls under way.
   */
  private <T> CompletableFuture<T> async(IoCall<T> call) {
    CompletableFuture<T> future = new CompletableFuture<>();
    Thread.ofVirtual().name("wimg-client-async").start(() -> {
      try {
        future.complete(call.call());
      } catch (Throwable e) {
        future.completeExceptionally(e);
      }
    });
    return future;
  }

  /**
   * A read-only channel over a stored file: reads fetch the bytes at the channel's position by
   * {@code Range} requests (a window of {@link RemoteFile#WINDOW_BYTES} at a time), so a program
   * can seek in a large file without downloading it. Every answer must carry the file's first
   * ETag ({@code If-Range}): a file replaced meanwhile fails the read rather than mixing versions.
   *
   * @throws WimgException with status 404 if there is no such file
   */
  public java.nio.channels.SeekableByteChannel open(String fid) throws IOException {
    checkFid(fid);
    HttpResponse<InputStream> head = exchangeFile(fid, base -> request(fileUri(base, fid))
        .method("HEAD", BodyPublishers.noBody()).build());
    try (InputStream in = head.body()) {
      requireStatus(head, in, 200);
    }
    long size = head.headers().firstValueAsLong("Content-Length").orElseThrow(() ->
        new IOException("server " + origin(head.uri()) + " answered HEAD of " + fid + " without a Content-Length"));
    return new RemoteFile(http, head.uri(), head.headers().firstValue("ETag").orElse(null), size, requestTimeout);
  }

  /**
   * The URL of a transform of {@code fid} ({@code transform} as a query without {@code ?}, such as
   * {@code w=300&format=webp}; docs/API.md "Transforms"), on {@link #server()}, signed with the
   * builder's {@link Builder#signKey} when one is given (the server's rule: the path, {@code ?},
   * then the parameters decoded and sorted by name, HMAC-SHA256 under the key, as {@code sig}).
   * A null or empty {@code transform} is the file itself.
   *
   * @param name the file name to put after the fid in the path (as the server's {@code url} does), or null
   */
  public URI url(String fid, String name, String transform) {
    checkFid(fid);
    String path = "/" + fid + (name == null || name.isEmpty() ? ""
        : "/" + URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20"));
    if (transform == null || transform.isEmpty()) {
      return URI.create(server() + path);
    }
    if (transform.startsWith("?")) {
      transform = transform.substring(1);
    }
    if (signKey == null) {
      return URI.create(server() + path + "?" + transform);
    }
    java.util.TreeMap<String, List<String>> sorted = new java.util.TreeMap<>();
    for (String pair : transform.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String key = java.net.URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String value = eq < 0 ? "" : java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      if (!key.equals("sig")) {
        sorted.computeIfAbsent(key, k -> new ArrayList<>(1)).add(value);
      }
    }
    java.util.StringJoiner signed = new java.util.StringJoiner("&", path + "?", "");
    sorted.forEach((k, values) -> values.stream().sorted().forEach(v -> signed.add(k + "=" + v)));
    String message = signed.toString();
    return URI.create(server() + path + "?" + transform + "&sig=" + hmacSha256Hex(signKey, message));
  }

  /** {@link #url(String, String, String)} without a name in the path. */
  public URI url(String fid, String transform) {
    return url(fid, null, transform);
  }

  private static String hmacSha256Hex(String key, String message) {
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(new javax.crypto.spec.SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return java.util.HexFormat.of().formatHex(mac.doFinal(message.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }

  /**
   * Uploads bytes.
   *
   * @param name file name kept with the file, or null
   * @param mime media type, or null for {@code application/octet-stream}
   */
  public UploadResult upload(byte[] data, String name, String mime) throws IOException {
    return sendUpload(BodyPublishers.ofByteArray(data), data.length, name, mime);
  }

  /**
   * Downloads a file into memory.
   *
   * @throws WimgException with status 404 if there is no such file
   */
  public byte[] download(String fid) throws IOException {
    checkFid(fid);
    HttpResponse<InputStream> response = exchangeFile(fid, base -> get(fileUri(base, fid)));
    try (InputStream in = response.body()) {
      requireStatus(response, in, 200);
      long expected = contentLength(response);
      byte[] data = in.readAllBytes();
      checkLength(fid, expected, data.length);
      return data;
    }
  }

  /**
   * Streams a file to {@code out}, which is neither flushed nor closed. If the transfer breaks,
   * some bytes may already have been written.
   *
   * @return the number of bytes written
   * @throws WimgException with status 404 if there is no such file
   */
  public long download(String fid, OutputStream out) throws IOException {
    Objects.requireNonNull(out, "out");
    checkFid(fid);
    HttpResponse<InputStream> response = exchangeFile(fid, base -> get(fileUri(base, fid)));
    try (InputStream in = response.body()) {
      requireStatus(response, in, 200);
      return copy(fid, in, out, contentLength(response));
    }
  }

  /**
   * Streams a file to {@code target}, replacing it; {@link #download(String, Path, ProgressListener)}
   * without a listener.
   */
  public long download(String fid, Path target) throws IOException {
    return download(fid, target, null);
  }

  /**
   * Streams a file to {@code target}, replacing it. The bytes go to a hidden temporary file next to
   * the target that is renamed only once complete, so a failed download leaves {@code target} as it
   * was.
   *
   * <p>A file larger than {@link #LARGE_FILE_BYTES} comes in parallel ranges (the builder's
   * {@link Builder#transferStreams}), one per chunk the server lists, each chunk's SHA-256
   * checked; in a cluster, from every member of its group that serves reads, the faster ones
   * carrying more and one that fails or stalls losing its share to the others. Such a download
   * that breaks off leaves its part file ({@code .NAME.wimg-part} next to the target): the next
   * download of the same file to the same target keeps the chunks it holds intact and fetches
   * only the rest ({@link #lastResumedBytes()} tells how many bytes were kept).
   *
   * @param listener told of the bytes received and verified, or null
   * @return the number of bytes written
   * @throws WimgException with status 404 if there is no such file
   */
  public long download(String fid, Path target, ProgressListener listener) throws IOException {
    Path absolute = target.toAbsolutePath();
    Path dir = absolute.getParent();
    Path name = absolute.getFileName();
    if (dir == null || name == null) {
      throw new IllegalArgumentException("download target must name a file, got " + target);
    }
    checkFid(fid);
    // HEAD first: a large file's bytes then come only as the ranges below (a GET would have the
    // server push its first megabytes before the client could stop it)
    HttpResponse<InputStream> response = exchangeFile(fid, base -> request(fileUri(base, fid))
        .method("HEAD", BodyPublishers.noBody()).build());
    long size;
    try (InputStream in = response.body()) {
      requireStatus(response, in, 200);
      size = response.headers().firstValueAsLong("Content-Length").orElse(-1);
    }
    if (size <= LARGE_FILE_BYTES || !response.headers().firstValue("Accept-Ranges").orElse("").equals("bytes")) {
      HttpResponse<InputStream> whole = exchangeFile(fid, base -> get(fileUri(base, fid)));
      try (InputStream in = whole.body()) {
        requireStatus(whole, in, 200);
        return copyInto(fid, in, whole, dir, name, absolute);
      }
    }
    // from the node that answered and the other members of its group, each range written at its place
    List<URI> sources = new ArrayList<>();
    sources.add(response.uri());
    URI answered = origin(response.uri());
    for (URI member : routes().readers(Fid.parse(fid).group(), cache::recentlyFailed)) {
      if (!origin(member).equals(answered)) {
        sources.add(fileUri(member, fid));
      }
    }
    return downloadInRanges(fid, sources, response.headers().firstValue("ETag").orElse(null), size,
        dir, name, absolute, listener);
  }

  /** {@link #download(String, Path)} of a file in one stream: into a part file, then moved. */
  private long copyInto(String fid, InputStream in, HttpResponse<InputStream> response, Path dir, Path name,
                        Path absolute) throws IOException {
    Path partial = dir.resolve("." + name + ".wimg-"
        + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".part");
    boolean moved = false;
    try {
      long n;
      try (OutputStream out = Files.newOutputStream(partial, StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE)) {
        n = copy(fid, in, out, contentLength(response));
      }
      try {
        Files.move(partial, absolute, StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(partial, absolute, StandardCopyOption.REPLACE_EXISTING);
      }
      moved = true;
      return n;
    } finally {
      if (!moved) {
        Files.deleteIfExists(partial);
      }
    }
  }

  /**
   * {@link #download(String, Path)} of a large file: {@link ParallelDownload} into a part file
   * (locked while in use; kept after a failure, for the next download to resume from), then moved.
   */
  private long downloadInRanges(String fid, List<URI> sources, String etag, long size, Path dir, Path name,
                                Path absolute, ProgressListener listener) throws IOException {
    Path partial = dir.resolve("." + name + ".wimg-part");
    boolean moved = false;
    try (java.nio.channels.FileChannel out = java.nio.channels.FileChannel.open(partial,
        StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      if (out.tryLock() == null) {
        throw new IOException("another download to " + absolute + " is under way (" + partial + " is locked)");
      }
      ParallelDownload download = new ParallelDownload(http, json, sources, etag, size, connectTimeout, requestTimeout,
          transferStreams, adaptiveTransfers, listener, Fid.parse(fid).group(), group -> {
            try {
              return routes().readers(group, cache::recentlyFailed);
            } catch (InterruptedIOException e) {
              Thread.currentThread().interrupt();
              return List.of();
            }
          });
      try {
        download.run(out);
      } finally {
        lastResumedBytes = download.resumedBytes();
      }
      try {
        Files.move(partial, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(partial, absolute, StandardCopyOption.REPLACE_EXISTING);
      }
      moved = true;
      return size;
    } catch (java.nio.channels.OverlappingFileLockException e) {
      throw new IOException("another download to " + absolute + " is under way in this process");
    } catch (IOException e) {
      if (!moved && Files.exists(partial) && Files.size(partial) == 0) {
        Files.deleteIfExists(partial);
      }
      throw new IOException("download of " + fid + ": " + e.getMessage()
          + (Files.exists(partial) ? " (what arrived intact is kept in " + partial + " for the next try)" : ""), e);
    }
  }

  /**
   * Deletes a file.
   *
   * @return true once the server has durably deleted it, false if there was no such file
   */
  public boolean delete(String fid) throws IOException {
    checkFid(fid);
    HttpResponse<InputStream> response = exchangeFile(fid, base -> authorized(request(fileUri(base, fid)).DELETE()));
    try (InputStream in = response.body()) {
      int status = response.statusCode();
      if (status == 404) {
        return false;
      }
      if (status != 204 && status != 200) {
        throw error(response, in);
      }
      return true;
    }
  }

  /** The server's {@code GET /status} document (volumes, needles, free space, version). */
  public JsonNode status() throws IOException {
    return getJson("/status", MAX_JSON_BODY_BYTES).document();
  }

  /**
   * A tracker's view of the cluster, its {@code GET /cluster}: the storage groups, their members
   * and their states, and the trackers.
   *
   * @return the view, or empty if the server that answered is a single server, not a tracker: it
   *     has no {@code /cluster} and answers {@code 404} (a server older than the cluster answers
   *     {@code 400}, reading {@code cluster} as a malformed fid; that counts the same)
   * @throws IOException as every call, and also if the answer is not a {@code /cluster} document
   */
  public Optional<ClusterView> cluster() throws IOException {
    Optional<ClusterView> view = fetchCluster();
    cache.offer(view);
    return view;
  }

  /** {@link #cluster()} without storing the answer in the cache. */
  private Optional<ClusterView> fetchCluster() throws IOException {
    HttpResponse<InputStream> response = exchange(base -> get(URI.create(base + "/cluster")));
    try (InputStream in = response.body()) {
      int status = response.statusCode();
      if (status == 404 || status == 400) {
        return Optional.empty();
      }
      requireStatus(response, in, 200);
      JsonNode node = readJson(in, "/cluster", response, MAX_JSON_BODY_BYTES);
      try {
        return Optional.of(ClusterView.parse(node));
      } catch (IllegalArgumentException e) {
        throw new IOException("server " + origin(response.uri()) + " answered /cluster with an "
            + "unexpected document: " + printable(e.getMessage()), e);
      }
    }
  }

  /**
   * Asks a tracker to copy a large file (stored in chunks: over {@link #LARGE_FILE_BYTES}) to other
   * storage nodes: {@code POST /tasks} with the write key (docs/DISTRIBUTION.md). The tracker
   * resolves the targets once, to the live nodes they name outside the file's own group; they fetch
   * the file's pieces from each other as well as from its group, and serve it under its fid once
   * done. Follow the task with {@link #task(String)}.
   *
   * <p>A tracker that answers {@code 502}, {@code 503} or {@code 504} made no task, so the next URL
   * is asked (see the class comment); a request whose exchange broke after it was sent
   * ({@link BrokenExchangeException}) is not sent again, as it may have made one.
   *
   * @param fid     the file
   * @param targets each {@code zone:NAME} (every live node of the zone), {@code group:N} (every
   *     live member of storage group N) or {@code node:ID}; at least one
   * @return the task as the tracker made it: its id, its targets, state {@code running}
   * @throws WimgException {@code 400} (a malformed target), {@code 401}/{@code 403} (the write
   *     key), {@code 404} (no such file), {@code 422} (a file stored whole, not in chunks),
   *     {@code 503} (no reader of the file's group, or no live node among the targets); a single
   *     server, which keeps no tasks, answers {@code 405}
   * @throws IllegalArgumentException if {@code fid} is not a file id or {@code targets} is empty,
   *     before anything is sent
   */
  public TaskStatus distribute(String fid, List<String> targets) throws IOException {
    checkFid(fid);
    Objects.requireNonNull(targets, "targets");
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("a distribution needs at least one target");
    }
    ObjectNode document = json.createObjectNode();
    document.put("fid", fid);
    ArrayNode to = document.putArray("targets");
    targets.forEach(t -> to.add(Objects.requireNonNull(t, "target")));
    byte[] body = json.writeValueAsBytes(document);
    HttpResponse<InputStream> response = exchange(base -> authorized(request(URI.create(base + "/tasks"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .POST(BodyPublishers.ofByteArray(body))));
    try (InputStream in = response.body()) {
      int status = response.statusCode();
      if (status != 201 && status != 200) {
        throw error(response, in);
      }
      return readTask(readJson(in, "POST /tasks", response, MAX_TASKS_BODY_BYTES), "POST /tasks",
          origin(response.uri()));
    }
  }

  /**
   * A distribution task as a tracker sees it now, its {@code GET /tasks/<id>}: state, source
   * copies, and each target's state and progress.
   *
   * @throws WimgException with status 404 if the tracker that answered does not know the task (a
   *     tracker restarted a moment ago learns its tasks from their targets within a second)
   * @throws IOException as every call, and also if the answer is a task of a version this client
   *     does not read, or not a task
   * @throws IllegalArgumentException if {@code id} cannot be a task id ({@link #isTaskId}), before
   *     anything is sent
   */
  public TaskStatus task(String id) throws IOException {
    String path = taskPath(id);
    JsonAnswer answer = getJson(path, MAX_TASKS_BODY_BYTES);
    return readTask(answer.document(), path, answer.server());
  }

  /**
   * {@link #task(String)} as the tracker sent it: the JSON object, fields this client does not
   * read included, unchecked but for being an object (for tools that show it as it is).
   */
  public JsonNode taskDocument(String id) throws IOException {
    return getJson(taskPath(id), MAX_TASKS_BODY_BYTES).document();
  }

  /**
   * Every distribution task a tracker knows, its {@code GET /tasks}, in the tracker's order
   * (oldest first). No key is needed.
   *
   * @throws IOException as every call, and also if a task in the answer is of a version this
   *     client does not read, or the answer is not a task list
   */
  public List<TaskStatus> tasks() throws IOException {
    JsonAnswer answer = getJson("/tasks", MAX_TASKS_BODY_BYTES);
    JsonNode list = answer.document().get("tasks");
    if (list == null || !list.isArray()) {
      throw new IOException("server " + answer.server() + " answered /tasks without a tasks array: "
          + printable(answer.document().toString()));
    }
    List<TaskStatus> tasks = new ArrayList<>(list.size());
    for (JsonNode task : list) {
      tasks.add(readTask(task, "/tasks", answer.server()));
    }
    return tasks;
  }

  /** {@link #tasks()} as the tracker sent it: {@code {"tasks": [...]}}, as {@link #taskDocument}. */
  public JsonNode tasksDocument() throws IOException {
    return getJson("/tasks", MAX_TASKS_BODY_BYTES).document();
  }

  /**
   * Cancels a distribution task, {@code DELETE /tasks/<id>} with the write key: each target stops
   * and drops its copy at its next report to the tracker.
   *
   * @throws WimgException with status 404 if the tracker that answered does not know the task,
   *     401/403 for the write key
   * @throws IllegalArgumentException if {@code id} cannot be a task id ({@link #isTaskId}), before
   *     anything is sent
   */
  public void cancelTask(String id) throws IOException {
    String path = taskPath(id);
    HttpResponse<InputStream> response = exchange(base -> authorized(request(URI.create(base + path)).DELETE()));
    try (InputStream in = response.body()) {
      int status = response.statusCode();
      if (status != 204 && status != 200) {
        throw error(response, in);
      }
    }
  }

  /**
   * Whether {@code id} has the form {@link #task}, {@link #taskDocument} and {@link #cancelTask}
   * take: 1 to 128 letters, digits, {@code -} and {@code _} (a tracker makes 32 hex digits, and
   * answers {@code 404} to any other id of this form).
   */
  public static boolean isTaskId(String id) {
    return id != null && TASK_ID.matcher(id).matches();
  }

  /** {@code /tasks/<id>}, once {@code id} is checked by {@link #isTaskId}. */
  private static String taskPath(String id) {
    if (!isTaskId(id)) {
      throw new IllegalArgumentException("not a task id: " + (id == null ? "null" : printable(id))
          + " (1 to 128 letters, digits, - and _)");
    }
    return "/tasks/" + id;
  }

  /**
   * A task of an answer to {@code what}, checked: this client's version, an id, a fid and states.
   */
  private TaskStatus readTask(JsonNode node, String what, URI server) throws IOException {
    if (!node.isObject()) {
      throw new IOException("server " + server + " answered " + what + " with a task that is not a JSON object: "
          + printable(node.toString()));
    }
    JsonNode version = node.get("version");
    if (version == null || !version.isInt() || version.intValue() != TaskStatus.VERSION) {
      throw new IOException("server " + server + " answered " + what + " with a task of version "
          + (version == null ? "(none)" : printable(version.toString())) + "; this client reads version "
          + TaskStatus.VERSION + " (is the tracker newer than this client?)");
    }
    TaskStatus task;
    try {
      task = taskReader.readValue(node);
    } catch (JacksonException e) {
      throw new IOException("server " + server + " answered " + what + " with a task it cannot read: "
          + printable(String.valueOf(e.getOriginalMessage())), e);
    }
    if (!isTaskId(task.id()) || task.fid() == null || task.state() == null
        || task.targets().stream().anyMatch(t -> t == null || t.state() == null)) {
      throw new IOException("server " + server + " answered " + what + " with a task without an id, fid or state: "
          + printable(node.toString()));
    }
    return task;
  }

  /** A JSON answer and the server that sent it (for messages). */
  private record JsonAnswer(URI server, JsonNode document) {}

  /**
   * {@code GET path} through the URL list: the JSON object of a {@code 200} answer of at most
   * {@code maxBytes}.
   */
  private JsonAnswer getJson(String path, int maxBytes) throws IOException {
    HttpResponse<InputStream> response = exchange(base -> get(URI.create(base + path)));
    try (InputStream in = response.body()) {
      requireStatus(response, in, 200);
      return new JsonAnswer(origin(response.uri()), readJson(in, path, response, maxBytes));
    }
  }

  /** The absolute URL at which {@link #server()} serves {@code fid}. */
  public URI urlOf(String fid) {
    checkFid(fid);
    return fileUri(server(), fid);
  }

  /**
   * The absolute URL of an uploaded file: the server's {@code url}, resolved against
   * {@link #server()} (right after an upload through the URL list, the server that acknowledged it;
   * after an upload sent to a storage node directly, the tracker that answered last, which
   * redirects to the file's group).
   */
  public URI urlOf(UploadResult result) {
    String url = result.url();
    if (url != null && url.startsWith("/") && !url.startsWith("//")) {
      return URI.create(server() + url);
    }
    return urlOf(result.fid());
  }

  /** Closes idle connections; waits for requests in progress. */
  @Override
  public void close() {
    http.close();
  }

  private UploadResult sendUpload(BodyPublisher body, long size, String name, String mime)
      throws IOException {
    String query = name == null || name.isEmpty() ? ""
        : "?name=" + URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    Function<URI, HttpRequest> requestFor = base -> {
      HttpRequest.Builder request = request(URI.create(base + "/files" + query))
          .header("Content-Type", mime == null || mime.isBlank() ? OCTET_STREAM : mime)
          .header("Accept", "application/json")
          .POST(body);
      if (size > EXPECT_CONTINUE_THRESHOLD_BYTES) {
        request.expectContinue(true);
      }
      return authorized(request);
    };
    HttpResponse<InputStream> response = null;
    for (URI node : routes().uploadTargets(uploadTurn.getAndIncrement(), MAX_DIRECT_UPLOAD_ATTEMPTS,
        cache::recentlyFailed)) {
      response = tryNode(node, requestFor, true);
      if (response != null) {
        break;
      }
    }
    if (response == null) {
      response = exchange(requestFor);
    }
    URI server = origin(response.uri());
    try (InputStream in = response.body()) {
      int status = response.statusCode();
      if (status != 201 && status != 200) {
        throw error(response, in);
      }
      JsonNode node = readJson(in, "POST /files", response, MAX_JSON_BODY_BYTES);
      UploadResult result;
      try {
        result = json.treeToValue(node, UploadResult.class);
      } catch (JacksonException e) {
        throw new IOException("server " + server + " answered an upload with unexpected JSON: "
            + printable(node.toString()), e);
      }
      if (result == null || result.fid() == null || !isFid(result.fid())) {
        throw new IOException("server " + server + " answered an upload without a valid fid: "
            + printable(node.toString()));
      }
      if (result.size() != size) {
        throw new IOException("server " + server + " acknowledged " + result.size()
            + " bytes for fid " + result.fid() + " but " + size + " were sent");
      }
      return result;
    }
  }

  private HttpRequest get(URI uri) {
    return request(uri).GET().build();
  }

  private HttpRequest.Builder request(URI uri) {
    return HttpRequest.newBuilder(uri).timeout(requestTimeout).header("User-Agent", "wimg-client");
  }

  /** {@code request} built, with the write key if there is one (see the class comment for which requests). */
  private HttpRequest authorized(HttpRequest.Builder request) {
    if (writeKey != null) {
      request.header("Authorization", "Bearer " + writeKey);
    }
    return request.build();
  }

  /**
   * The routes to storage nodes now: from the cached cluster view, fetched first if it is missing,
   * old or stale (see {@link ClusterCache}); {@link DirectRoutes#NONE} if the direct path is off.
   */
  private DirectRoutes routes() throws InterruptedIOException {
    return directToNodes ? cache.routes(this::fetchCluster) : DirectRoutes.NONE;
  }

  /**
   * Sends a request about {@code fid} to the members of its group that serve reads, in order, and
   * returns the first answer that is not a {@code 502}/{@code 503}/{@code 504}; when none gives
   * one (or there are none), sends it through the URL list ({@link #exchange}) as a client
   * without the direct path does.
   */
  private HttpResponse<InputStream> exchangeFile(String fid, Function<URI, HttpRequest> requestFor)
      throws IOException {
    int group = Fid.parse(fid).group();
    for (URI node : routes().readers(group, cache::recentlyFailed)) {
      HttpResponse<InputStream> response = tryNode(node, requestFor, false);
      if (response != null) {
        return response;
      }
    }
    return exchange(requestFor);
  }

  /**
   * Sends the request {@code requestFor} builds for storage node {@code node}, following
   * redirects. Returns the answer, or null if the node could not be connected to or answered
   * {@code 502}/{@code 503}/{@code 504} (any {@code 5xx} if {@code anyServerError}: an upload a
   * node answered so was not acknowledged), so that the caller tries elsewhere. On a failure the
   * node is skipped for a while and the view fetched again before the next call (see
   * {@link ClusterCache}).
   *
   * <p>An upload ({@code anyServerError}) whose exchange broke after it was sent (the node died
   * with it in flight: the connection closed or reset before any answer) is tried elsewhere too,
   * as a tracker does: it was not acknowledged, and if the dead node had stored it, that copy is
   * one nobody was given a fid for, garbage for a vacuum, while the retry's copy is the file.
   *
   * @throws IOException if the exchange of a read or delete broke after the request was sent: it
   *     is not sent again, as on the URL list
   */
  private HttpResponse<InputStream> tryNode(URI node, Function<URI, HttpRequest> requestFor,
      boolean anyServerError) throws IOException {
    try {
      HttpResponse<InputStream> response = followRedirects(requestFor.apply(node));
      int status = response.statusCode();
      if (!(notCarriedOut(status) || (anyServerError && status >= 500))) {
        return response;
      }
      response.body().close();
    } catch (ServerUnreachableException e) {
      // Nothing was sent: the caller tries the next node.
    } catch (InterruptedIOException e) {
      throw e;
    } catch (IOException e) {
      cache.nodeFailed(node);
      cache.invalidate();
      if (!anyServerError) {
        throw e;
      }
    }
    cache.nodeFailed(node);
    cache.invalidate();
    return null;
  }

  /**
   * Sends the request {@code requestFor} builds for each base URL in turn, from the preferred one,
   * until one answers with something other than {@code 502}/{@code 503}/{@code 504}, following
   * redirects; returns that answer, whose body the caller closes. See the class comment.
   */
  private HttpResponse<InputStream> exchange(Function<URI, HttpRequest> requestFor) throws IOException {
    int n = servers.size();
    int start = preferred.get();
    List<ServerUnreachableException.Attempt> attempts = new ArrayList<>(n);
    IOException last = null;
    for (int i = 0; i < n; i++) {
      int index = (start + i) % n;
      URI base = servers.get(index);
      try {
        HttpResponse<InputStream> response = followRedirects(requestFor.apply(base));
        if (!notCarriedOut(response.statusCode())) {
          preferred.set(index);
          return response;
        }
        WimgException refused;
        try (InputStream in = response.body()) {
          refused = error(response, in);
        }
        attempts.add(new ServerUnreachableException.Attempt(base,
            redirectedTo(base, response.uri()) + refused.getMessage()));
        last = refused;
      } catch (ServerUnreachableException e) {
        attempts.add(new ServerUnreachableException.Attempt(base,
            redirectedTo(base, e.server()) + e.attempts().getLast().reason()));
        last = e;
      }
    }
    if (attempts.size() == 1) {
      throw last;
    }
    throw new ServerUnreachableException(attempts, last);
  }

  /**
   * Whether an answer means the request was not carried out and another server may take it:
   * a gateway that found nothing behind it, or a server that is overloaded or unavailable.
   */
  private static boolean notCarriedOut(int status) {
    return status == 502 || status == 503 || status == 504;
  }

  /** {@code "redirected to <origin>: "} if {@code reached} is not on {@code base}, else empty. */
  private static String redirectedTo(URI base, URI reached) {
    URI origin = origin(reached);
    return origin.equals(origin(base)) ? "" : "redirected to " + origin + ": ";
  }

  /**
   * Sends {@code request} and follows the redirects of a {@code GET}, {@code HEAD} or
   * {@code DELETE} (see the class comment).
   */
  private HttpResponse<InputStream> followRedirects(HttpRequest request) throws IOException {
    boolean follows = switch (request.method()) {
      case "GET", "HEAD", "DELETE" -> true;
      default -> false;
    };
    for (int redirects = 0; ; redirects++) {
      HttpResponse<InputStream> response = send(request);
      int status = response.statusCode();
      boolean redirect = status == 301 || status == 302 || status == 307 || status == 308;
      Optional<String> location = response.headers().firstValue("Location");
      if (!follows || !redirect || location.isEmpty()) {
        return response;
      }
      response.body().close();
      if (redirects == MAX_REDIRECTS) {
        throw new IOException(request.method() + " " + request.uri() + " was redirected more than "
            + MAX_REDIRECTS + " times");
      }
      URI next;
      try {
        next = request.uri().resolve(new URI(location.get().strip()));
        baseUrl(origin(next));
      } catch (URISyntaxException | IllegalArgumentException e) {
        throw new IOException(request.method() + " " + request.uri() + " was redirected to "
            + printable(location.get()) + ", which is not an http or https URL");
      }
      if (request.uri().getScheme().equalsIgnoreCase("https") && !next.getScheme().equalsIgnoreCase("https")) {
        throw new IOException(request.method() + " " + request.uri() + " was redirected from https to "
            + printable(next.toString()) + "; refusing to send the request unencrypted");
      }
      request = HttpRequest.newBuilder(request, (name, value) -> true).uri(next).build();
    }
  }

  /** {@code scheme://authority} of {@code uri}: the server a request to it reaches. */
  /** {@code uri}'s scheme and authority: the server it names. */
  static URI origin(URI uri) {
    return URI.create(uri.getScheme() + "://" + uri.getRawAuthority());
  }

  private HttpResponse<InputStream> send(HttpRequest request) throws IOException {
    try {
      return http.send(request, BodyHandlers.ofInputStream());
    } catch (ConnectException | HttpConnectTimeoutException e) {
      throw new ServerUnreachableException(origin(request.uri()), reason(e), e);
    } catch (HttpTimeoutException e) {
      throw new HttpTimeoutException(request.method() + " " + request.uri()
          + ": no answer within " + requestTimeout.toSeconds() + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException(request.method() + " " + request.uri() + " interrupted");
    } catch (IOException e) {
      throw new BrokenExchangeException(request.method() + " " + request.uri() + " failed: " + reason(e), e);
    }
  }

  private void requireStatus(HttpResponse<?> response, InputStream in, int expected)
      throws IOException {
    if (response.statusCode() != expected) {
      throw error(response, in);
    }
  }

  /** Builds the exception for an error answer from at most {@link #MAX_ERROR_BODY_BYTES} of it. */
  private WimgException error(HttpResponse<?> response, InputStream in) throws IOException {
    byte[] body = in.readNBytes(MAX_ERROR_BODY_BYTES);
    String message = null;
    try {
      JsonNode node = json.readTree(body);
      if (node != null && node.path("error").isTextual()) {
        message = printable(node.get("error").asText());
      }
    } catch (JacksonException notJson) {
      // Not the server's JSON error (a proxy page, say): described below from its text.
    }
    if (message == null) {
      String text = new String(body, StandardCharsets.UTF_8).strip();
      message = text.isEmpty() ? "error answer without a body" : "unexpected answer: " + printable(text);
    }
    return new WimgException(response.statusCode(), message);
  }

  /**
   * The JSON object of an answer to {@code what}, of at most {@code maxBytes}.
   *
   * @throws BrokenExchangeException if the connection broke while the body was read
   */
  private JsonNode readJson(InputStream in, String what, HttpResponse<?> response, int maxBytes) throws IOException {
    URI server = origin(response.uri());
    byte[] body;
    try {
      body = in.readNBytes(maxBytes + 1);
    } catch (InterruptedIOException e) {
      throw e;
    } catch (IOException e) {
      throw new BrokenExchangeException(response.request().method() + " " + response.uri()
          + " broke off in the answer: " + reason(e), e);
    }
    if (body.length > maxBytes) {
      throw new IOException("server " + server + " answered " + what + " with more than "
          + maxBytes + " bytes of JSON");
    }
    try {
      JsonNode node = json.readTree(body);
      if (node == null || !node.isObject()) {
        throw new IOException("server " + server + " answered " + what
            + " with something other than a JSON object: "
            + printable(new String(body, StandardCharsets.UTF_8)));
      }
      return node;
    } catch (JacksonException e) {
      throw new IOException("server " + server + " answered " + what + " with invalid JSON: "
          + printable(new String(body, StandardCharsets.UTF_8)), e);
    }
  }

  private static long copy(String fid, InputStream in, OutputStream out, long expected)
      throws IOException {
    byte[] buffer = new byte[COPY_BUFFER_BYTES];
    long total = 0;
    for (int n; (n = in.read(buffer)) >= 0; ) {
      out.write(buffer, 0, n);
      total += n;
    }
    checkLength(fid, expected, total);
    return total;
  }

  private static void checkLength(String fid, long expected, long actual) throws IOException {
    if (expected >= 0 && actual != expected) {
      throw new IOException("download of " + fid + " broke off: got " + actual + " of "
          + expected + " bytes");
    }
  }

  private static long contentLength(HttpResponse<?> response) throws IOException {
    String value = response.headers().firstValue("Content-Length").orElse(null);
    if (value == null) {
      return -1;
    }
    try {
      long n = Long.parseLong(value.strip());
      if (n < 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IOException("server sent an invalid Content-Length: " + printable(value));
    }
  }

  /**
   * Checks {@code fid} with {@link Fid#parse} before anything is sent: a fid's text form needs no
   * escaping in a URL, so anything else (a path, a typo) is refused.
   *
   * @throws IllegalArgumentException naming what is wrong, if {@code fid} is not a file id
   */
  private static void checkFid(String fid) {
    if (fid == null) {
      throw new IllegalArgumentException("not a file id: null");
    }
    try {
      Fid.parse(fid);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(printable("not a file id: " + e.getMessage()), e);
    }
  }

  /** The URL of {@code fid}, already checked by {@link #checkFid}, on {@code base}. */
  private static URI fileUri(URI base, String fid) {
    return URI.create(base + "/" + fid);
  }

  /** Whether {@code s} is the text form of a fid. */
  private static boolean isFid(String s) {
    try {
      Fid.parse(s);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** Server text made safe for a terminal: control characters replaced, length capped. */
  private static String printable(String s) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), ERROR_SNIPPET_CHARS + 3));
    for (int i = 0; i < s.length() && b.length() < ERROR_SNIPPET_CHARS; i++) {
      char c = s.charAt(i);
      b.append(Character.isISOControl(c) ? ' ' : c);
    }
    if (s.length() > ERROR_SNIPPET_CHARS) {
      b.append("...");
    }
    return b.toString();
  }

  private static String reason(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof UnresolvedAddressException) {
        return "unknown host";
      }
      if (t instanceof HttpConnectTimeoutException) {
        return "connect timed out";
      }
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        return t.getMessage().toLowerCase(Locale.ROOT);
      }
    }
    // The JDK reports a refused connect as a ConnectException without a message (the refusal
    // itself is lost in a retry that finds the channel closed).
    return e instanceof ConnectException ? "connection refused" : e.getClass().getSimpleName();
  }

  /**
   * Checks a server URL as {@link #builder(URI)} does and returns it without a trailing slash.
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  public static URI baseUrl(URI server) {
    Objects.requireNonNull(server, "server");
    String scheme = server.getScheme();
    if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))) {
      throw new IllegalArgumentException("server URL must start with http:// or https://, got " + server);
    }
    if (server.getHost() == null) {
      throw new IllegalArgumentException("server URL must name a host, got " + server);
    }
    if (server.getRawQuery() != null || server.getRawFragment() != null || server.getRawUserInfo() != null) {
      throw new IllegalArgumentException("server URL must have no user, query or fragment, got " + server);
    }
    String text = server.toString();
    while (text.endsWith("/")) {
      text = text.substring(0, text.length() - 1);
    }
    return URI.create(text);
  }

  /**
   * Checks a list of server URLs as {@link #builder(List)} does and returns them without trailing
   * slashes, in the same order.
   *
   * @throws IllegalArgumentException naming what is wrong: an empty list, a bad URL, a URL listed
   *     twice
   */
  public static List<URI> baseUrls(List<URI> servers) {
    Objects.requireNonNull(servers, "servers");
    if (servers.isEmpty()) {
      throw new IllegalArgumentException("at least one server URL is needed");
    }
    List<URI> urls = new ArrayList<>(servers.size());
    Set<URI> seen = new HashSet<>();
    for (URI server : servers) {
      URI url = baseUrl(server);
      if (!seen.add(url)) {
        throw new IllegalArgumentException("server URL " + url + " is listed twice");
      }
      urls.add(url);
    }
    return List.copyOf(urls);
  }

  /** Settings of a {@link WimgClient}. */
  public static final class Builder {
    private final List<URI> servers;
    private String writeKey;
    private String signKey;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
    private Duration clusterViewTtl = DEFAULT_CLUSTER_VIEW_TTL;
    private boolean directToNodes = true;
    private int transferStreams = DEFAULT_STREAMS;
    private boolean adaptiveTransfers = true;
    private LongSupplier nanoClock = System::nanoTime;

    private Builder(List<URI> servers) {
      this.servers = servers;
    }

    /**
     * Bearer key sent with uploads, deletes, and the creation and cancelling of distribution
     * tasks; null or blank for none.
     */
    public Builder writeKey(String key) {
      this.writeKey = key == null || key.isBlank() ? null : key;
      return this;
    }

    /**
     * The server's URL signing key ({@code --sign-key}): {@link WimgClient#url} signs the transform
     * URLs it builds with it. Null or blank for none.
     */
    public Builder signKey(String key) {
      this.signKey = key == null || key.isBlank() ? null : key;
      return this;
    }

    /** Limit for opening a connection; default {@link #DEFAULT_CONNECT_TIMEOUT}. */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = positive(timeout, "connectTimeout");
      return this;
    }

    /** Limit from sending a request to its response headers; default {@link #DEFAULT_REQUEST_TIMEOUT}. */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = positive(timeout, "requestTimeout");
      return this;
    }

    /**
     * How long a fetched cluster view is used before the client asks for it again; default
     * {@link #DEFAULT_CLUSTER_VIEW_TTL}. Zero asks before every call. A single server is asked
     * for {@code /cluster} at most once per this time.
     *
     * @throws IllegalArgumentException if {@code ttl} is null or negative
     */
    public Builder clusterViewTtl(Duration ttl) {
      if (ttl == null || ttl.isNegative()) {
        throw new IllegalArgumentException("clusterViewTtl must be zero or positive, got " + ttl);
      }
      this.clusterViewTtl = ttl;
      return this;
    }

    /**
     * Whether the client sends requests to storage nodes itself, as the cluster view lists them
     * (default true), or always through its URLs: turn it off when the nodes' URLs cannot be
     * reached from where the client runs (behind a proxy, say). Off, the client never asks for
     * {@code /cluster} but through {@link WimgClient#cluster()}.
     */
    public Builder directToNodes(boolean direct) {
      this.directToNodes = direct;
      return this;
    }

    /**
     * Parallel streams of a large upload or download, 1 to 64; default {@link #DEFAULT_STREAMS}.
     *
     * @throws IllegalArgumentException outside 1-64
     */
    public Builder transferStreams(int streams) {
      if (streams < 1 || streams > 64) {
        throw new IllegalArgumentException("transferStreams must be 1 to 64, got " + streams);
      }
      this.transferStreams = streams;
      return this;
    }

    /**
     * Whether a large download's streams share its work by measurement (default true: a faster
     * member carries more, a stalled one loses its share, see
     * {@link WimgClient#download(String, Path, ProgressListener)}) or split it evenly between the
     * members, as a fixed split would: off only to measure the difference.
     */
    public Builder adaptiveTransfers(boolean adaptive) {
      this.adaptiveTransfers = adaptive;
      return this;
    }

    /** The clock of the cluster view's age, {@link System#nanoTime} by default; tests move it. */
    Builder nanoClock(LongSupplier clock) {
      this.nanoClock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Builds the client; it holds idle connections until {@link WimgClient#close()}. */
    public WimgClient build() {
      return new WimgClient(this);
    }

    private static Duration positive(Duration d, String what) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive, got " + d);
      }
      return d;
    }
  }
}
