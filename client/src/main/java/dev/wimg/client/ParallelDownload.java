package dev.wimg.client;

import dev.wimg.transfer.BulkConnection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A large file fetched in parallel byte ranges from one or more sources (the members of its group
 * that serve it), each range written at its place in the target file as it arrives.
 *
 * <p><b>What is checked.</b> The ranges are the file's chunks as the server lists them
 * ({@code GET /<fid>?chunks}) and each chunk's SHA-256 is checked as its bytes arrive: a range whose
 * hash differs is fetched again from another source, and fails the download when no source is
 * left; never is a file with wrong bytes completed. (A server that lists none gets ranges of
 * {@link #RANGE_BYTES}, checked by length only.) Every range asks {@code If-Range} with the file's
 * ETag and must come back as exactly that range ({@code 206} and its {@code Content-Range}), so
 * bytes of two versions are never mixed.
 *
 * <p><b>Sharing the work</b> ({@code adaptive}, the default). The ranges wait in one queue; each of
 * {@code streams} threads takes the next one and fetches it from its source, so a source that
 * delivers faster is asked for more. Before the transfer, when there are several sources, each is
 * probed with a timed request of {@link #PROBE_BYTES}, and the streams are given to the sources in
 * proportion to what the probes measured (the fastest has at least one; a source that failed its
 * probe has none). A source that fails a request, sends a wrong chunk or stalls (nothing for
 * {@link #STALL_TIMEOUT} with other sources left) is dropped: its range goes back to the queue and
 * its streams move to the fastest source left. Once the queue is empty, an idle stream fetches
 * again a range that is still under way on another source (the end game: a slow source's last
 * range does not hold up the whole file); the first copy to arrive whole and verified is kept.
 *
 * <p><b>Chunks of other groups.</b> In a cluster of several groups a large file's chunks lie in
 * all of them (docs/CLUSTER.md, "Large files over groups"); the chunk list names each chunk's
 * fid, and a chunk of another group than the file's is fetched whole ({@code GET /<chunk fid>})
 * from that group's members directly, in turn, rather than through the file's node, which would
 * relay it. Only when none of them sends it right do the file's own members get the range.
 *
 * <p>With {@code adaptive} off each source gets an equal fixed share of the ranges and of the
 * streams, as a client that splits a file evenly would: kept to measure the difference.
 *
 * <p><b>Resuming.</b> When the target file already holds bytes (a download that broke off), each
 * range is hashed there first and fetched only if its SHA-256 differs.
 */
final class ParallelDownload {

  /** Bytes per range request when the server lists no chunks. */
  static final int RANGE_BYTES = 16 << 20;
  /** Bytes a probe fetches from each source. */
  static final int PROBE_BYTES = 1 << 20;
  /** A probe still under way this many times as late as the first finished one is too slow. */
  static final int PROBE_GRACE_FACTOR = 4;
  /** ...and at least this many ms after it. */
  static final int PROBE_GRACE_MILLIS = 250;
  /** With other sources left, a source that sends nothing for this long is dropped. */
  static final Duration STALL_TIMEOUT = Duration.ofSeconds(10);

  private final HttpClient http;
  private final ObjectMapper json;
  private final List<Source> sources = new ArrayList<>();
  private final String etag;
  private final long size;
  private final Duration connectTimeout;
  private final Duration timeout;
  private final int streams;
  private final boolean adaptive;
  private final WimgClient.ProgressListener listener;
  /** The file's group, and the base URLs of a group's members that serve reads (none when unknown). */
  private final int fileGroup;
  private final java.util.function.IntFunction<List<URI>> groupReaders;
  private final List<Range> ranges = new ArrayList<>();
  /** Ranges nobody is fetching, in file order (adaptive). */
  private final Deque<Range> queue = new ArrayDeque<>();
  private final AtomicInteger nextStream = new AtomicInteger();
  /** Whether {@link #run} found bytes in the target: each range is hashed there before it is fetched. */
  private boolean resuming;
  private long doneBytes;
  private int doneRanges;
  private IOException failure;
  private long resumedBytes;

  /** A member serving the file: its URL and what happened to it in this transfer. */
  private static final class Source {
    final URI url;
    final int index;
    double probedRate;
    boolean dropped;
    String droppedWhy;
    /** Fixed shares: the ranges left for this source. */
    final Deque<Range> share = new ArrayDeque<>();

    Source(URI url, int index) {
      this.url = url;
      this.index = index;
    }
  }

  /** A range of the file and the state of its fetching; guarded by the download's monitor. */
  private static final class Range {
    final long first;
    final long last;
    final byte[] sha256;
    /** Raised when an attempt's bytes turned out wrong: older attempts may no longer write. */
    int generation;
    int inFlight;
    boolean done;
    long startedNanos;
    Source source;
    /** The source whose attempt completed the range. */
    Source finishedBy;
    /** The connections of the attempts under way, aborted once one of them completes the range. */
    final List<BulkConnection> attempts = new ArrayList<>(2);

    /** The chunk's own fid and group when the server lists them (null, 0 otherwise). */
    String chunkFid;
    int group;

    Range(long first, long last, byte[] sha256) {
      this.first = first;
      this.last = last;
      this.sha256 = sha256;
    }

    long length() {
      return last - first + 1;
    }
  }

  /** An attempt given up because another attempt finished the range first. */
  private static final class Superseded extends IOException {
    Superseded() {
      super("superseded");
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this; // control flow, not an error: no stack trace to fill
    }
  }

  /**
   * @param sources  the file's URLs, one per member that serves it, the one that answered first
   * @param adaptive work taken from a shared queue (see the class comment) rather than fixed shares
   */
  ParallelDownload(HttpClient http, ObjectMapper json, List<URI> sources, String etag, long size, Duration connectTimeout,
                   Duration timeout, int streams, boolean adaptive, WimgClient.ProgressListener listener,
                   int fileGroup, java.util.function.IntFunction<List<URI>> groupReaders) {
    this.http = http;
    this.json = json;
    this.fileGroup = fileGroup;
    this.groupReaders = groupReaders;
    for (URI s : sources) {
      this.sources.add(new Source(s, this.sources.size()));
    }
    this.etag = etag;
    this.size = size;
    this.connectTimeout = connectTimeout;
    this.timeout = timeout;
    this.streams = streams;
    this.adaptive = adaptive;
    this.listener = listener;
  }

  /** Bytes found already in the target and kept (a resumed download). */
  long resumedBytes() {
    return resumedBytes;
  }

  /**
   * Fetches the whole file into {@code out} (positional writes). If {@code out} holds bytes
   * already, the ranges it holds intact are kept.
   */
  void run(FileChannel out) throws IOException {
    plan();
    if (out.size() > size) {
      out.truncate(size);
    }
    resuming = out.size() > 0; // what a broken-off download wrote: its ranges are hashed before any fetch
    Source[] assignment = assignStreams();
    ParallelStreams.run(assignment.length, "wimg-download-", "download of " + sources.getFirst().url, () -> {
      stream(out, assignment[nextStream.getAndIncrement()]);
      return null;
    });
    synchronized (this) {
      if (failure != null) {
        throw failure;
      }
    }
    if (out.size() != size) {
      throw new IOException("download of " + sources.getFirst().url + " holds " + out.size() + " bytes, not " + size);
    }
  }

  /** The ranges: the server's chunk list if it gives one that covers the file, else fixed ranges. */
  private void plan() throws IOException {
    URI list = URI.create(sources.getFirst().url.toString().replaceFirst("\\?.*$", "") + "?chunks");
    HttpResponse<byte[]> r;
    try {
      r = http.send(HttpRequest.newBuilder(list).timeout(timeout).header("User-Agent", "wimg-client")
          .GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("GET " + list + " interrupted");
    }
    if (r.statusCode() == 200) {
      JsonNode body = json.readTree(r.body());
      long at = 0;
      for (JsonNode c : body.path("chunks")) {
        long offset = c.path("offset").asLong(-1);
        long n = c.path("size").asLong(-1);
        if (offset != at || n <= 0) {
          throw new IOException(list + " lists chunks that do not follow each other at " + at);
        }
        Range range = new Range(offset, offset + n - 1, HexFormat.of().parseHex(c.path("sha256").asText()));
        if (c.hasNonNull("fid")) {
          try {
            range.group = dev.wimg.protocol.Fid.parse(c.get("fid").asText()).group();
            range.chunkFid = c.get("fid").asText();
          } catch (IllegalArgumentException e) {
            throw new IOException(list + " lists a chunk with a bad fid: " + e.getMessage());
          }
        }
        ranges.add(range);
        at += n;
      }
      if (!ranges.isEmpty() && at != size) {
        throw new IOException(list + " lists chunks of " + at + " bytes, the file has " + size);
      }
    }
    if (ranges.isEmpty()) {
      for (long from = 0; from < size; from += RANGE_BYTES) {
        ranges.add(new Range(from, Math.min(size, from + RANGE_BYTES) - 1, null));
      }
    }
    if (adaptive) {
      queue.addAll(ranges);
    } else {
      for (int i = 0; i < ranges.size(); i++) {
        sources.get((int) ((long) i * sources.size() / ranges.size())).share.add(ranges.get(i));
      }
    }
  }

  /** Which source each stream starts on: probed shares (adaptive) or equal ones. */
  private Source[] assignStreams() throws IOException {
    int n = sources.size();
    Source[] assignment = new Source[Math.max(streams, adaptive ? 1 : n)];
    if (!adaptive || n == 1) {
      for (int i = 0; i < assignment.length; i++) {
        assignment[i] = sources.get(i % n);
      }
      return assignment;
    }
    probe();
    List<Source> live = sources.stream().filter(s -> !s.dropped)
        .sorted(Comparator.comparingDouble((Source s) -> -s.probedRate)).toList();
    if (live.isEmpty()) {
      throw new IOException("no member serves " + sources.getFirst().url + ": "
          + sources.stream().map(s -> s.url.getAuthority() + " " + s.droppedWhy).toList());
    }
    double total = live.stream().mapToDouble(s -> s.probedRate).sum();
    int given = 0;
    for (Source s : live) {
      int share = given == 0 ? Math.max(1, (int) Math.round(streams * s.probedRate / total))
          : (int) Math.round(streams * s.probedRate / total);
      for (int i = 0; i < share && given < assignment.length; i++) {
        assignment[given++] = s;
      }
    }
    for (int i = 0; given < assignment.length; i++) {
      assignment[given++] = live.get(i % live.size());
    }
    return assignment;
  }

  /**
   * Times a {@link #PROBE_BYTES} range from every source at once. A source whose probe has not
   * finished {@link #PROBE_GRACE_FACTOR} times as late as the first one's (at least
   * {@link #PROBE_GRACE_MILLIS} ms after it) is left with a rate of 0 (no stream starts on it); one
   * whose probe fails is dropped.
   */
  private void probe() throws IOException {
    long probeBytes = Math.min(PROBE_BYTES, size);
    long started = System.nanoTime();
    java.util.concurrent.CountDownLatch first = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch all = new java.util.concurrent.CountDownLatch(sources.size());
    // guarded by itself: the probes' connections, and whether the probing is over (a probe that
    // ends later changes nothing: its thread is left to close its connection)
    BulkConnection[] connections = new BulkConnection[sources.size()];
    boolean[] over = {false};
    for (Source s : sources) {
      Thread.ofPlatform().daemon().name("wimg-probe-" + s.index).start(() -> {
        try (BulkConnection c = BulkConnection.open(WimgClient.origin(s.url), connectTimeout, STALL_TIMEOUT)) {
          synchronized (connections) {
            if (over[0]) {
              return;
            }
            connections[s.index] = c;
          }
          BulkConnection.Response r = c.exchange("GET", target(s.url), rangeHeaders(0, probeBytes - 1), null, 0, 0, null);
          checkRange(s, r, 0, probeBytes - 1);
          while (r.read(bytes -> { })) {
            // timed, not kept
          }
          synchronized (connections) {
            if (!over[0]) {
              s.probedRate = probeBytes / Math.max(1e-6, (System.nanoTime() - started) / 1e9);
            }
          }
          first.countDown();
        } catch (BulkConnection.AbortedException e) {
          // slower than the grace: its rate stays 0, no stream starts on it
        } catch (IOException e) {
          synchronized (connections) {
            if (!over[0]) {
              s.dropped = true;
              s.droppedWhy = "its probe failed: " + e.getMessage();
            }
          }
        } finally {
          all.countDown();
        }
      });
    }
    try {
      // the first probe's time sets how long the others may take
      while (!first.await(10, java.util.concurrent.TimeUnit.MILLISECONDS) && all.getCount() > 0) {
        // a probe that fails counts down only "all"
      }
      long firstNanos = System.nanoTime() - started;
      long graceNanos = Math.max(firstNanos * PROBE_GRACE_FACTOR, firstNanos + PROBE_GRACE_MILLIS * 1_000_000L);
      all.await(Math.max(0, graceNanos - firstNanos), java.util.concurrent.TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("probe of " + sources.getFirst().url + " interrupted");
    } finally {
      synchronized (connections) {
        over[0] = true;
        for (BulkConnection c : connections) {
          if (c != null) {
            c.abort(); // a probe still under way: too slow (one done already ignores it)
          }
        }
      }
    }
  }

  /** One stream: takes ranges until the file is done, fetching each from its source. */
  private void stream(FileChannel out, Source start) throws IOException {
    Source source = start;
    BulkConnection connection = null;
    java.util.Map<URI, BulkConnection> direct = new java.util.HashMap<>();
    try {
      while (true) {
        Range range;
        int generation;
        synchronized (this) {
          source = source.dropped ? fastestLeft() : source;
          range = source == null ? null : take(source);
          if (range == null) {
            return;
          }
          range.inFlight++;
          generation = range.generation;
          if (range.inFlight == 1) {
            range.startedNanos = System.nanoTime();
            range.source = source;
          }
        }
        if (resuming && range.sha256 != null && heldIntact(out, range)) {
          finished(range, generation, null, true);
          continue;
        }
        try {
          if (range.chunkFid != null && range.group != fileGroup) {
            // a chunk kept by another group: from its members directly, not through this file's node
            byte[] hash = fetchFromItsGroup(direct, out, range, generation);
            if (hash != null && MessageDigest.isEqual(hash, range.sha256)) {
              finished(range, generation, null, false);
              continue;
            }
            // none of them sent it right: the file's members read it for us below
          }
          if (connection == null || !connection.reusable() || !connection.origin().equals(WimgClient.origin(source.url))) {
            if (connection != null) {
              connection.close();
            }
            connection = connect(source.url, sources.size() > 1);
          }
          byte[] hash;
          synchronized (this) {
            range.attempts.add(connection);
          }
          try {
            try {
              hash = fetch(connection, source, out, range, generation);
            } catch (BulkConnection.StaleConnectionException stale) {
              // closed by the server while this stream waited: once more on a new connection
              synchronized (this) {
                range.attempts.remove(connection);
              }
              connection.close();
              connection = connect(source.url, sources.size() > 1);
              synchronized (this) {
                range.attempts.add(connection);
              }
              hash = fetch(connection, source, out, range, generation);
            }
          } finally {
            synchronized (this) {
              range.attempts.remove(connection);
            }
          }
          if (range.sha256 != null && !MessageDigest.isEqual(hash, range.sha256)) {
            failed(range, generation, source, "sent bytes " + range.first + "-" + range.last
                + " whose SHA-256 is not the one the server lists for that chunk", true);
          } else {
            finished(range, generation, source, false);
          }
        } catch (Superseded | BulkConnection.AbortedException e) {
          attemptEnded(range);
          // another source was faster at this range: this stream goes on with that one
          synchronized (this) {
            source = range.finishedBy != null && !range.finishedBy.dropped ? range.finishedBy : source;
          }
        } catch (InterruptedIOException e) {
          throw e;
        } catch (IOException e) {
          failed(range, generation, source, e.getMessage(), false);
        }
        if (connection != null && !connection.reusable()) {
          connection.close();
          connection = null;
        }
      }
    } finally {
      if (connection != null) {
        connection.close();
      }
      for (BulkConnection c : direct.values()) {
        c.close();
      }
    }
  }

  /**
   * A connection to {@code url}'s server; its waits are bounded by {@link #STALL_TIMEOUT} when
   * {@code othersLeft} (another source could take the work), else by the request timeout.
   */
  private BulkConnection connect(URI url, boolean othersLeft) throws IOException {
    return BulkConnection.open(WimgClient.origin(url), connectTimeout,
        othersLeft && timeout.compareTo(STALL_TIMEOUT) > 0 ? STALL_TIMEOUT : timeout);
  }

  /**
   * Fetches a chunk kept by another group than the file's ({@code GET /<chunk fid>}) from that
   * group's members in turn (connections kept in {@code direct}, one per member); returns the
   * SHA-256 of the bytes written, or null when no member sent the whole chunk.
   */
  private byte[] fetchFromItsGroup(java.util.Map<URI, BulkConnection> direct, FileChannel out, Range range,
                                   int generation) throws IOException {
    for (URI member : groupReaders.apply(range.group)) {
      URI origin = WimgClient.origin(member);
      BulkConnection c = direct.get(origin);
      try {
        if (c == null || !c.reusable()) {
          if (c != null) {
            c.close();
          }
          c = connect(origin, true);
          direct.put(origin, c);
        }
        synchronized (this) {
          range.attempts.add(c);
        }
        try {
          BulkConnection.Response r = c.exchange("GET", "/" + range.chunkFid, new String[0], null, 0, 0, null);
          if (r.status != 200 || !Long.toString(range.length()).equals(r.header("content-length"))) {
            if (r.status >= 400) {
              r.text();
            }
            continue;
          }
          return receive(r, out, range, generation);
        } finally {
          synchronized (this) {
            range.attempts.remove(c);
          }
        }
      } catch (Superseded | BulkConnection.AbortedException | InterruptedIOException e) {
        throw e;
      } catch (IOException e) {
        // this member could not: the next one
      }
    }
    return null;
  }

  /**
   * The next range for a stream on {@code source}, waiting while others are under way and may yet
   * fail; null when the file is done or the download failed.
   */
  private synchronized Range take(Source source) throws InterruptedIOException {
    while (true) {
      if (failure != null || doneRanges == ranges.size()) {
        return null;
      }
      Range next = adaptive ? queue.pollFirst() : source.share.pollFirst();
      if (next != null) {
        return next;
      }
      if (adaptive) {
        // the end game: the range under way longest on another source, not already doubled
        Range slowest = null;
        for (Range r : ranges) {
          if (!r.done && r.inFlight == 1 && r.source != source
              && (slowest == null || r.startedNanos < slowest.startedNanos)) {
            slowest = r;
          }
        }
        if (slowest != null) {
          return slowest;
        }
      }
      // fixed shares: this source's share is done; it waits, as a fixed split's stream would
      try {
        wait(); // until a range finishes or is put back
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("download interrupted");
      }
    }
  }

  private Source fastestLeft() {
    return sources.stream().filter(s -> !s.dropped)
        .max(Comparator.comparingDouble(s -> s.probedRate)).orElse(null);
  }

  /** Fetches one range; returns the SHA-256 of the bytes written. */
  private byte[] fetch(BulkConnection connection, Source source, FileChannel out, Range range, int generation)
      throws IOException {
    BulkConnection.Response r = connection.exchange("GET", target(source.url),
        rangeHeaders(range.first, range.last), null, 0, 0, null);
    checkRange(source, r, range.first, range.last);
    return receive(r, out, range, generation);
  }

  /** Writes a response's body at {@code range}'s place, unless another attempt finished it; returns its SHA-256. */
  private byte[] receive(BulkConnection.Response r, FileChannel out, Range range, int generation) throws IOException {
    MessageDigest digest = sha256();
    long[] at = {range.first};
    while (r.read(bytes -> {
      digest.update(bytes.duplicate());
      synchronized (range) {
        if (range.generation != generation || range.done) {
          throw new Superseded();
        }
        while (bytes.hasRemaining()) {
          at[0] += out.write(bytes, at[0]);
        }
      }
    })) {
      // each read hands its bytes to the sink above
    }
    return digest.digest();
  }

  private void checkRange(Source source, BulkConnection.Response r, long first, long last) throws IOException {
    String range = r.header("content-range");
    if (r.status != 206 || !("bytes " + first + "-" + last + "/" + size).equals(range)) {
      String body = r.status >= 400 ? ": " + r.text().strip() : "";
      throw new IOException("GET " + source.url + " bytes " + first + "-" + last + " answered " + r.status
          + (range == null ? "" : " " + range) + ", not that range of the file" + body);
    }
  }

  /** Whether the target holds {@code range} already, intact. */
  private boolean heldIntact(FileChannel out, Range range) throws IOException {
    MessageDigest digest = sha256();
    ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
    for (long at = range.first; at <= range.last; ) {
      buffer.clear().limit((int) Math.min(buffer.capacity(), range.last + 1 - at));
      int n = out.read(buffer, at);
      if (n <= 0) {
        return false;
      }
      buffer.flip();
      digest.update(buffer);
      at += n;
    }
    return MessageDigest.isEqual(digest.digest(), range.sha256);
  }

  private synchronized void finished(Range range, int generation, Source source, boolean held) {
    synchronized (range) {
      range.inFlight--;
      if (range.done || range.generation != generation) {
        notifyAll();
        return;
      }
      range.done = true;
      range.finishedBy = source;
    }
    for (BulkConnection other : range.attempts) {
      other.abort(); // an end-game double still under way: its stream moves on
    }
    doneRanges++;
    doneBytes += range.length();
    if (held) {
      resumedBytes += range.length();
    }
    if (listener != null) {
      listener.progress(doneBytes, size);
    }
    notifyAll();
  }

  private synchronized void attemptEnded(Range range) {
    range.inFlight--;
    notifyAll();
  }

  /**
   * An attempt failed: its source is dropped (if others are left) and the range put back; with no
   * source left, the download fails. Wrong bytes ({@code corrupt}) also void every other attempt's
   * writes to that range, which is then fetched again whole.
   */
  private synchronized void failed(Range range, int generation, Source source, String why, boolean corrupt) {
    synchronized (range) {
      range.inFlight--;
      if (corrupt) {
        range.generation++;
        if (range.done) {
          range.done = false;
          doneRanges--;
          doneBytes -= range.length();
        }
      }
    }
    if (!source.dropped) {
      source.dropped = true;
      source.droppedWhy = why;
    }
    boolean stillWanted = !range.done && (corrupt || range.generation == generation);
    if (stillWanted && range.inFlight == 0) {
      range.source = null;
      if (adaptive) {
        queue.addFirst(range);
      } else {
        source.share.addFirst(range);
      }
    }
    Source other = fastestLeft();
    if (!adaptive && source.dropped && other != null) {
      other.share.addAll(source.share); // a dropped source's fixed share goes to another
      source.share.clear();
    }
    if (fastestLeft() == null && failure == null) {
      failure = new IOException(sources.size() == 1 ? "GET " + source.url + " " + why
          : "no member could send the file; " + sources.stream()
              .map(s -> s.url.getAuthority() + " " + s.droppedWhy).toList());
    }
    notifyAll();
  }

  private String[] rangeHeaders(long first, long last) {
    String range = "bytes=" + first + "-" + last;
    return etag == null ? new String[] {"Range", range} : new String[] {"Range", range, "If-Range", etag};
  }

  private static String target(URI url) {
    String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
    return url.getRawQuery() == null ? path : path + "?" + url.getRawQuery();
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
