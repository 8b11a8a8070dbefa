package dev.wimg.server.internal.distribution;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.protocol.DistributionTask;
import dev.wimg.protocol.Fid;
import dev.wimg.protocol.PieceHandout;
import dev.wimg.protocol.TargetState;
import dev.wimg.protocol.TaskReport;
import dev.wimg.server.internal.cluster.ChunkFetch;
import dev.wimg.server.internal.large.Manifest;
import dev.wimg.storage.Store;
import dev.wimg.storage.StoredFile;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one distribution task on a target node until its pinned copy is whole: reports what it
 * holds to a tracker, fetches the pieces the tracker's {@link PieceHandout} names (from peers that
 * hold them, or under a lease from the file's own group), checks each against the task's SHA-256,
 * pins it, and reports again at once so that peers can fetch it from here. Once every piece is
 * pinned it pins the manifest, ends the task as {@code done} and says so.
 *
 * <p>With no tracker answering for {@link #ALONE_AFTER}, it finds the missing pieces on its LAN
 * ({@link LanDiscovery}) and fetches them from those peers, and the pieces no peer holds from the
 * file's own group, one at a time (the definition's {@code sources}), so a started task ends
 * without trackers. A fetch tries the holders a handout names in turn; a piece none of them sent
 * is asked for again at the next report.
 *
 * <p>One thread runs the loop; each fetch runs on a virtual thread of its own, at most
 * {@link #STREAMS} at once.
 */
final class TaskRunner {

  private static final Logger log = LoggerFactory.getLogger(TaskRunner.class);

  /** Pieces fetched at once. */
  static final int STREAMS = 4;
  /** Without a tracker's answer for this long, the runner fetches from the source alone. */
  static final Duration ALONE_AFTER = Duration.ofSeconds(3);
  /** How long LAN answers are waited for. */
  static final Duration LAN_WAIT = Duration.ofMillis(300);
  /** How long a piece no peer on the LAN names waits before it is fetched from the source. */
  static final Duration SOURCE_AFTER = Duration.ofSeconds(2);
  /** Source answers of 404 for one piece, from every source, after which the file counts as gone. */
  private static final int GONE_AFTER = 3;

  private final DistributionTask task;
  private final Fid file;
  private final NodeTasks.Node node;
  private final PinnedCopies pins;
  private final Store own;
  private final ChunkFetch fetch;
  private final HttpClient http;
  private final ObjectMapper json;
  private final NodeTasks owner;
  private final BitSet have = new BitSet();
  private final Map<Integer, String> inFlight = new ConcurrentHashMap<>();
  private final Semaphore progress = new Semaphore(0);
  private final AtomicLong bytes = new AtomicLong();
  private final AtomicLong sourceBytes = new AtomicLong();
  private final AtomicLong goneAnswers = new AtomicLong();
  private volatile Thread thread;
  private volatile boolean stopped;
  private final TrackerLink link;
  private final LanDiscovery lan;
  /** Alone: when each missing piece was first found with no holder on the LAN. */
  private final Map<Integer, Long> noHolderSince = new ConcurrentHashMap<>();
  private final long sourceJitterNanos = java.util.concurrent.ThreadLocalRandom.current()
      .nextLong(SOURCE_AFTER.toNanos());
  /** Fetches from the source under way. */
  private final java.util.concurrent.atomic.AtomicInteger fromSource = new java.util.concurrent.atomic.AtomicInteger();
  /**
   * How fast pieces came from each holder URL lately, bytes/s (each new piece's rate averaged with
   * the last), in the order measured, the oldest first: the report's {@code holderRates}.
   */
  private final Map<String, Long> holderRates = java.util.Collections.synchronizedMap(
      new java.util.LinkedHashMap<>(16, 0.75f, true));
  private long rate;
  private long rateBytes;
  private long rateNanos = System.nanoTime();

  TaskRunner(DistributionTask task, NodeTasks.Node node, PinnedCopies pins, Store own, ChunkFetch fetch,
             HttpClient http, ObjectMapper json, NodeTasks owner, LanDiscovery lan) {
    this.task = task;
    this.file = Fid.parse(task.fid());
    this.node = node;
    this.pins = pins;
    this.own = own;
    this.fetch = fetch;
    this.http = http;
    this.json = json;
    this.owner = owner;
    this.link = new TrackerLink(task, node, http, json);
    this.lan = lan;
  }

  /** The task this runner runs. */
  DistributionTask task() {
    return task;
  }

  void start() {
    thread = Thread.ofPlatform().daemon().name("wimg-task-" + task.id().substring(0, 8)).start(this::run);
  }

  /** Stops the loop and its fetches; the task stays as it is on disk. */
  void stop() {
    stopped = true;
    Thread t = thread;
    if (t != null) {
      t.interrupt();
      try {
        t.join(TimeUnit.SECONDS.toMillis(5));
        // the fetches under way end at their next check of stopped (their connections are
        // aborted by the owner): none may pin a piece once the pins close
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!inFlight.isEmpty() && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void run() {
    try {
      synchronized (have) {
        have.or(pins.pieces(file));
      }
      adoptOwnGroupPieces();
      while (!stopped) {
        if (whole()) {
          finish();
          return;
        }
        boolean started;
        synchronized (have) {
          started = !have.isEmpty();
        }
        PieceHandout handout = report((started ? TargetState.FETCHING : TargetState.ACCEPTED).token(), null);
        long waitMillis;
        if (handout != null) {
          if (handout.cancel()) {
            // no fetch may pin a piece after the drop: stop them all, then drop
            stopped = true;
            awaitFetches();
            owner.cancelled(task);
            return;
          }
          for (PieceHandout.Assignment a : handout.pieces()) {
            startFetch(a.piece(), a.from(), a.source());
          }
          waitMillis = Math.clamp(handout.next(), 50, 1000);
        } else {
          if (System.nanoTime() - link.lastAnswerNanos() > ALONE_AFTER.toNanos()) {
            alone();
          }
          waitMillis = 500;
        }
        if (goneAnswers.get() >= GONE_AFTER) {
          fail("the file is gone at its source: every reader of its group answered 404");
          return;
        }
        progress.tryAcquire(waitMillis, TimeUnit.MILLISECONDS);
        progress.drainPermits();
      }
    } catch (InterruptedException | InterruptedIOException e) {
      // stopped: the task resumes at the next start
    } catch (IOException | RuntimeException e) {
      log.error("distribution task {} stopped: {}", task.id(), e.toString(), e);
      if (!stopped) {
        try {
          fail("this node failed: " + e.getMessage());
        } catch (IOException | InterruptedException ignored) {
          // logged above; the task file keeps its last state
        }
      }
    }
  }

  /** Waits until no fetch is under way (each ends at its next check of {@code stopped}). */
  private void awaitFetches() throws InterruptedException {
    while (!inFlight.isEmpty()) {
      progress.tryAcquire(100, TimeUnit.MILLISECONDS);
    }
  }

  private boolean whole() {
    synchronized (have) {
      return have.cardinality() == task.pieces().size();
    }
  }

  /**
   * Pieces that lie in this node's own group are in its own store already (a member holds its
   * group's volumes): they count as held once they read back with the task's SHA-256.
   */
  private void adoptOwnGroupPieces() throws IOException {
    for (int i = 0; i < task.pieces().size(); i++) {
      DistributionTask.Piece p = task.pieces().get(i);
      Fid chunk = Fid.parse(p.fid());
      if (chunk.group() != node.group()) {
        continue;
      }
      StoredFile stored;
      try {
        stored = own.read(chunk);
      } catch (IOException e) {
        log.warn("piece {} of task {} in this node's own store cannot be read ({}): fetching it instead", i,
            task.id(), e.getMessage());
        continue;
      }
      if (stored != null && stored.size() == p.size() && MessageDigest.isEqual(sha256(stored.data()), p.digest())) {
        synchronized (have) {
          have.set(i);
        }
      }
    }
  }

  private void startFetch(int piece, List<String> from, boolean source) {
    // a piece from the source gets a stream beyond STREAMS: its lease is this node's alone, and
    // the source's link waits for no stream to free up
    if (piece < 0 || piece >= task.pieces().size() || from.isEmpty() || inFlight.size() >= STREAMS + (source ? 1 : 0)
        || inFlight.containsKey(piece)) {
      return;
    }
    synchronized (have) {
      if (have.get(piece)) {
        return;
      }
    }
    inFlight.put(piece, from.getFirst());
    if (source) {
      fromSource.incrementAndGet();
    }
    Thread.ofVirtual().name("wimg-piece-" + piece).start(() -> {
      try {
        fetchPiece(piece, from, source);
      } finally {
        if (source) {
          fromSource.decrementAndGet();
        }
        inFlight.remove(piece);
        progress.release();
      }
    });
  }

  private void fetchPiece(int index, List<String> from, boolean source) {
    DistributionTask.Piece piece = task.pieces().get(index);
    Fid chunk = Fid.parse(piece.fid());
    int notFound = 0;
    for (String url : from) {
      if (stopped) {
        return;
      }
      inFlight.put(index, url);
      try {
        long started = System.nanoTime();
        byte[] bytes = fetch.fetch(URI.create(url), chunk, piece.size(), piece.digest(),
            Map.of("X-Wimg-Task", task.id()));
        measured(url, bytes.length, System.nanoTime() - started);
        if (stopped) {
          return; // cancelled or closed meanwhile: a piece pinned now would outlive its task
        }
        pins.putPiece(file, index, chunk, ByteBuffer.wrap(bytes));
        synchronized (have) {
          have.set(index);
        }
        noHolderSince.remove(index);
        this.bytes.addAndGet(bytes.length);
        if (source) {
          sourceBytes.addAndGet(bytes.length);
        }
        goneAnswers.set(0);
        return;
      } catch (ChunkFetch.FetchException e) {
        if (e.status() == 404) {
          notFound++;
        }
        log.debug("piece {} of task {} from {}: {}", index, task.id(), url, e.getMessage());
      } catch (InterruptedIOException e) {
        return;
      } catch (IOException e) {
        log.warn("piece {} of task {} could not be pinned: {}", index, task.id(), e.toString());
        return;
      }
    }
    if (source && notFound == from.size()) {
      goneAnswers.incrementAndGet();
    }
  }

  /** A piece of {@code bytes} came from {@code url} in {@code nanos}: its rate joins the holder's. */
  private void measured(String url, long bytes, long nanos) {
    long sample = bytes * 1_000_000_000L / Math.max(nanos, 1);
    synchronized (holderRates) {
      holderRates.merge(url, sample, (old, now) -> (old + now) / 2);
      if (holderRates.size() > TaskReport.MAX_HOLDER_RATES) {
        holderRates.remove(holderRates.keySet().iterator().next());
      }
    }
  }

  /**
   * No tracker answers: asks the LAN who holds the missing pieces and fetches them from those
   * peers; a piece no peer has named for {@link #SOURCE_AFTER} (plus this node's jitter of up to as
   * long again, so that nodes do not all go at once) is fetched from the file's own group, one at
   * a time, and is then offered to the others. Without LAN discovery the pieces come from the
   * file's group alone, one at a time.
   */
  private void alone() throws InterruptedException {
    List<Integer> missing = new ArrayList<>();
    synchronized (have) {
      for (int i = have.nextClearBit(0); i < task.pieces().size() && missing.size() < LanMessage.MAX_HASHES;
           i = have.nextClearBit(i + 1)) {
        if (!inFlight.containsKey(i)) {
          missing.add(i);
        }
      }
    }
    if (missing.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    Map<Integer, List<String>> holders = Map.of();
    if (lan != null) {
      List<byte[]> hashes = new ArrayList<>();
      for (int piece : missing) {
        hashes.add(task.pieces().get(piece).digest());
      }
      holders = lan.query(hashes, LAN_WAIT.toMillis());
    }
    List<Integer> unheld = new ArrayList<>();
    for (int i = 0; i < missing.size(); i++) {
      int piece = missing.get(i);
      List<String> urls = holders.get(i);
      if (urls != null && !urls.isEmpty()) {
        // the clock of a piece without holders runs on until a fetch of it succeeds: a peer that
        // names a piece it cannot send (the same bytes under another fid) holds nothing back
        noHolderSince.putIfAbsent(piece, now);
        List<String> shuffled = new ArrayList<>(urls);
        java.util.Collections.shuffle(shuffled);
        startFetch(piece, shuffled, false);
      } else {
        noHolderSince.putIfAbsent(piece, now);
      }
      if ((urls == null || urls.isEmpty() || now - noHolderSince.get(piece) >= 2 * SOURCE_AFTER.toNanos())
          && (lan == null || now - noHolderSince.get(piece) >= SOURCE_AFTER.toNanos() + sourceJitterNanos)
          && !inFlight.containsKey(piece)) {
        unheld.add(piece);
      }
    }
    if (unheld.isEmpty() || fromSource.get() > 0) {
      return;
    }
    int piece = unheld.get(java.util.concurrent.ThreadLocalRandom.current().nextInt(unheld.size()));
    int group = Fid.parse(task.pieces().get(piece).fid()).group();
    for (DistributionTask.Source s : task.sources()) {
      if (s.group() == group && !s.urls().isEmpty()) {
        startFetch(piece, s.urls(), true);
        return;
      }
    }
  }

  /** Every piece is pinned: the manifest too, then the task is done. */
  private void finish() throws IOException, InterruptedException {
    List<Manifest.Chunk> chunks = new ArrayList<>(task.pieces().size());
    for (DistributionTask.Piece p : task.pieces()) {
      chunks.add(new Manifest.Chunk(Fid.parse(p.fid()), p.offset(), p.size(), p.digest()));
    }
    DistributionTask.FileInfo info = task.file();
    pins.putFile(file, new Manifest(info.size(), info.chunkSize(), chunks).encode(), info.name(), info.mime(),
        info.lastModified(), (int) info.checksum());
    owner.ended(task, TargetState.DONE, null, bytes.get(), sourceBytes.get());
    log.info("distribution task {} done: {} pinned ({} bytes fetched, {} from its source)", task.id(), task.fid(),
        bytes.get(), sourceBytes.get());
    reportEnd(TargetState.DONE, null);
  }

  private void fail(String reason) throws IOException, InterruptedException {
    // the partial pin goes with the task (unless another task pins the file)
    stopped = true;
    awaitFetches();
    owner.ended(task, TargetState.FAILED, reason, bytes.get(), sourceBytes.get());
    log.warn("distribution task {} failed: {}", task.id(), reason);
    reportEnd(TargetState.FAILED, reason);
  }

  /** The last report, so the trackers see the end at once; a few tries, as trackers may be away. */
  private void reportEnd(TargetState state, String reason) throws InterruptedException {
    for (int i = 0; i < 3 && report(state.token(), reason) == null; i++) {
      Thread.sleep(500);
    }
  }

  private PieceHandout report(String state, String reason) throws InterruptedException {
    return link.report(definition -> report(state, reason, definition));
  }

  private TaskReport report(String state, String reason, DistributionTask definition) {
    // what is fetched first, then what is held: a piece that ends between the two shows in both,
    // never in neither (which would let its lease go to another node)
    List<TaskReport.Fetch> fetching = new ArrayList<>();
    inFlight.forEach((piece, from) -> fetching.add(new TaskReport.Fetch(piece, from)));
    BitSet held;
    synchronized (have) {
      held = (BitSet) have.clone();
    }
    long now = System.nanoTime();
    long received = bytes.get();
    if (now - rateNanos >= 500_000_000L) {
      long current = (received - rateBytes) * 1_000_000_000L / (now - rateNanos);
      rate = rate == 0 ? current : (rate + current) / 2;
      rateBytes = received;
      rateNanos = now;
    }
    List<TaskReport.HolderRate> measured = new ArrayList<>();
    synchronized (holderRates) {
      holderRates.forEach((url, bytesPerSecond) -> measured.add(new TaskReport.HolderRate(url, bytesPerSecond)));
    }
    return new TaskReport(TaskReport.VERSION, task.id(), node.id(), node.url(), state, reason,
        TaskReport.encodeHave(held), fetching, received, sourceBytes.get(), rate, measured, definition);
  }

  private static byte[] sha256(ByteBuffer data) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update(data.duplicate());
      return digest.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
