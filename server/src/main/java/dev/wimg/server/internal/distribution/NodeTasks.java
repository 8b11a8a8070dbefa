package dev.wimg.server.internal.distribution;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.protocol.DistributionTask;
import dev.wimg.protocol.TargetState;
import dev.wimg.server.internal.cluster.ChunkFetch;
import dev.wimg.storage.Store;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The distribution tasks this node accepted: each kept as {@code <data>/tasks/<id>.json} (its
 * definition and its state) before it counts as accepted, and run by a {@link TaskRunner} until it
 * is done or failed. A node that restarts goes on with every task not ended, from the pieces its
 * pin already holds.
 *
 * <p>A task file is written as the tus state is (docs/FORMAT.md): to a temporary file, forced,
 * renamed over the old one, the folder forced; so a crash leaves the old state or the new one.
 *
 * <p>A whole pinned copy is checked against its original every {@code pinCheckInterval}: the
 * members of the file's group that a tracker lists ({@code GET /locations/<fid>}) are each asked
 * {@code HEAD /<fid>}. Once every one of them answers {@code 404} the original is deleted: the
 * copy is dropped and its task ends {@code failed}, so a delete reaches every copy within that
 * interval. One member that lacks the file (it is catching up) does not drop copies, and an
 * answer that says nothing (no tracker, no member, a 5xx) leaves the copy served. One task is
 * checked per pass of the done reports, so the checks never hold those reports up for long.
 */
public final class NodeTasks implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(NodeTasks.class);

  /** How often a task done here is reported. */
  static final Duration DONE_REPORT_INTERVAL = Duration.ofSeconds(5);

  /** Folder of the task files, inside the data folder. */
  public static final String DIR = "tasks";

  /**
   * A task file's content: the definition, the node's state of it, and once ended the piece bytes
   * this node fetched for it and how many of those came from the file's own group (reported on).
   */
  record TaskFile(DistributionTask definition, String state, String reason, long bytes, long sourceBytes) {}

  /** A task done here, reported on with its figures. */
  private record Done(TrackerLink link, long bytes, long sourceBytes) {}

  /** Who this node is, and how it reaches the trackers and its peers. */
  public record Node(String id, String url, int group, List<URI> trackers, String clusterKey) {}

  /** The pieces of every task this node knows, by SHA-256 (hex): what LAN queries ask for. */
  private final Map<String, dev.wimg.protocol.Fid> piecesByHash = new ConcurrentHashMap<>();
  private final LanDiscovery lan;

  private final Path dir;
  private final Node node;
  private final PinnedCopies pins;
  private final Store own;
  private final ObjectMapper json = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).followRedirects(HttpClient.Redirect.NEVER).build();
  private final ChunkFetch fetch;
  private final Map<String, TaskRunner> running = new ConcurrentHashMap<>();
  /** Tasks done here, reported every {@link #DONE_REPORT_INTERVAL} so trackers know the pins (and cancels reach them). */
  private final Map<String, Done> done = new ConcurrentHashMap<>();
  private final Thread doneReports;
  private final Duration pinCheckInterval;
  /** When each done task's original was last checked, by task id. */
  private final Map<String, Long> pinCheckedNanos = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /**
   * Opens the task folder and starts every task not ended.
   *
   * @param own this node's store, which holds the pieces that lie in its own group
   * @param lan the LAN discovery's datagrams, or null for none; it needs the cluster key, which
   *            signs them
   * @param pieceRate bytes per second all of this node's piece fetches together may take, or 0
   *            for no cap
   * @param pinCheckInterval how often a whole pinned copy is checked against its original
   */
  public NodeTasks(Path dataDir, Node node, PinnedCopies pins, Store own, LanDiscovery.Transport lan, long pieceRate,
                   Duration pinCheckInterval) throws IOException {
    this.pinCheckInterval = pinCheckInterval;
    this.fetch = new ChunkFetch(Duration.ofSeconds(2), Duration.ofSeconds(20),
        pieceRate > 0 ? new dev.wimg.transfer.Throttle(pieceRate) : null);
    this.dir = Files.createDirectories(dataDir.resolve(DIR));
    this.node = node;
    this.pins = pins;
    this.own = own;
    if (lan != null && node.clusterKey() == null) {
      lan.close();
      throw new IllegalArgumentException("LAN discovery needs a cluster key to sign its datagrams");
    }
    this.lan = lan == null ? null : new LanDiscovery(lan, node.clusterKey(), node.id(), node.url(), hash -> {
      dev.wimg.protocol.Fid chunk = piecesByHash.get(java.util.HexFormat.of().formatHex(hash));
      return chunk != null && pins.holds(chunk);
    }, () -> Math.max(0, TaskRunner.STREAMS - running.size()));
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.toList()) {
        String name = file.getFileName().toString();
        if (name.endsWith(".tmp")) {
          Files.deleteIfExists(file); // a write cut off by a crash; the task file before it stands
          continue;
        }
        if (!name.endsWith(".json")) {
          continue;
        }
        TaskFile task;
        TargetState state;
        try {
          task = json.readValue(file.toFile(), TaskFile.class);
          state = TargetState.parse(task.state());
          know(task.definition());
        } catch (IOException | RuntimeException e) {
          log.error("task file {} cannot be read, leaving it as it is: {}", file, e.getMessage());
          continue;
        }
        if (state == TargetState.DONE && !pins.holdsFile(dev.wimg.protocol.Fid.parse(task.definition().fid()))) {
          // the pin index lost the file (a log cut at a damaged entry): fetch what is missing again
          log.warn("distribution task {} was done, but its pin of {} is not whole: fetching it again",
              task.definition().id(), task.definition().fid());
          start(task.definition());
        } else if (state == TargetState.DONE) {
          done.put(task.definition().id(), new Done(new TrackerLink(task.definition(), node, http, json), task.bytes(),
              task.sourceBytes()));
        } else if (!state.ended()) {
          start(task.definition());
        }
      }
    }
    doneReports = Thread.ofPlatform().daemon().name("wimg-task-reports").start(this::reportDone);
  }

  /**
   * Reports every task done here, so that a restarted tracker knows the pins; a task cancelled
   * meanwhile has its pin dropped.
   */
  private void reportDone() {
    while (!closed) {
      try {
        Thread.sleep(DONE_REPORT_INTERVAL);
        boolean checkedOne = false;
        for (Done d : done.values()) {
          TrackerLink link = d.link();
          DistributionTask task = link.task();
          java.util.BitSet all = new java.util.BitSet();
          all.set(0, task.pieces().size());
          dev.wimg.protocol.PieceHandout handout = link.report(definition -> new dev.wimg.protocol.TaskReport(
              dev.wimg.protocol.TaskReport.VERSION, task.id(), node.id(), node.url(), TargetState.DONE.token(), null,
              dev.wimg.protocol.TaskReport.encodeHave(all), List.of(), d.bytes(), d.sourceBytes(), 0, List.of(),
              definition));
          if (handout != null && handout.cancel()) {
            cancelled(task);
          } else if (!checkedOne) {
            checkedOne = checkOriginal(d);
          }
        }
      } catch (InterruptedException e) {
        return;
      } catch (IOException | RuntimeException e) {
        log.warn("reporting the tasks done here failed", e);
      }
    }
  }

  /**
   * Checks the original of a done task's file, once every {@link #pinCheckInterval}; when it is
   * deleted, drops the copy and ends the task {@code failed}. True if it asked the group now.
   */
  private boolean checkOriginal(Done d) throws IOException, InterruptedException {
    DistributionTask task = d.link().task();
    long now = System.nanoTime();
    Long checked = pinCheckedNanos.putIfAbsent(task.id(), now);
    if (checked == null || now - checked < pinCheckInterval.toNanos()) {
      return false; // the first check comes an interval after the task is seen done here
    }
    pinCheckedNanos.put(task.id(), now);
    if (!originalDeleted(task.fid())) {
      return true;
    }
    String reason = "the file was deleted at its source: this copy is dropped";
    // the pin goes first: a crash after it leaves a done task without its pin, which is fetched
    // again and then fails at its source; the other way round a failed task's pin would be served
    dropUnlessPinnedByAnother(task);
    save(new TaskFile(task, TargetState.FAILED.token(), reason, d.bytes(), d.sourceBytes()));
    done.remove(task.id());
    pinCheckedNanos.remove(task.id());
    log.info("distribution task {}: {} was deleted at its source, its copy here is dropped", task.id(), task.fid());
    TrackerLink link = d.link();
    java.util.BitSet none = new java.util.BitSet();
    link.report(definition -> new dev.wimg.protocol.TaskReport(dev.wimg.protocol.TaskReport.VERSION, task.id(),
        node.id(), node.url(), TargetState.FAILED.token(), reason, dev.wimg.protocol.TaskReport.encodeHave(none),
        List.of(), d.bytes(), d.sourceBytes(), 0, List.of(), definition));
    return true;
  }

  /**
   * Whether every member of {@code fid}'s group that the first answering tracker lists answers
   * {@code HEAD /<fid>} with {@code 404}; false when any holds it, any gives no answer, or no
   * tracker lists a member.
   */
  private boolean originalDeleted(String fid) throws InterruptedException {
    for (URI tracker : node.trackers()) {
      List<String> members = new java.util.ArrayList<>();
      try {
        java.net.http.HttpResponse<byte[]> listed = http.send(java.net.http.HttpRequest.newBuilder(
                tracker.resolve("/locations/" + fid)).timeout(Duration.ofSeconds(2)).build(),
            java.net.http.HttpResponse.BodyHandlers.ofByteArray());
        if (listed.statusCode() != 200) {
          continue;
        }
        for (com.fasterxml.jackson.databind.JsonNode l : json.readTree(listed.body()).path("locations")) {
          if ("member".equals(l.path("kind").asText())) {
            members.add(l.path("url").asText());
          }
        }
      } catch (IOException | RuntimeException e) {
        log.debug("listing the members that hold {} through {}: {}", fid, tracker, e.toString());
        continue;
      }
      if (members.isEmpty()) {
        return false;
      }
      for (String member : members) {
        try {
          int status = http.send(java.net.http.HttpRequest.newBuilder(URI.create(member + "/" + fid))
                  .method("HEAD", java.net.http.HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(2))
                  .build(), java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
          if (status != 404) {
            return false;
          }
        } catch (IOException | IllegalArgumentException e) {
          log.debug("asking {} for {}: {}", member, fid, e.toString());
          return false;
        }
      }
      return true;
    }
    return false;
  }

  /**
   * A task a tracker offers this node: kept on disk and started, unless this node knows it
   * already (or is not one of its targets). Called by the heartbeats; cheap when known.
   */
  public synchronized void offer(DistributionTask task) {
    if (closed || running.containsKey(task.id()) || !task.targets().contains(node.id())
        || Files.exists(file(task.id()))) {
      return;
    }
    try {
      save(new TaskFile(task, TargetState.ACCEPTED.token(), null, 0, 0));
    } catch (IOException e) {
      log.error("cannot keep distribution task {} on disk; not taking it", task.id(), e);
      return;
    }
    log.info("distribution task {} accepted: {} ({} pieces, {} bytes)", task.id(), task.fid(), task.pieces().size(),
        task.file().size());
    start(task);
  }

  private synchronized void start(DistributionTask task) {
    if (closed || running.containsKey(task.id())) {
      return;
    }
    know(task);
    TaskRunner runner = new TaskRunner(task, node, pins, own, fetch, http, json, this, lan);
    running.put(task.id(), runner);
    runner.start();
  }

  /** A runner's task ended: its state is kept, and the runner forgotten. */
  void ended(DistributionTask task, TargetState state, String reason, long bytes, long sourceBytes) throws IOException {
    try {
      save(new TaskFile(task, state.token(), reason, bytes, sourceBytes));
    } finally {
      running.remove(task.id());
    }
    if (state == TargetState.DONE) {
      done.put(task.id(), new Done(new TrackerLink(task, node, http, json), bytes, sourceBytes));
    } else {
      dropUnlessPinnedByAnother(task);
    }
  }

  /**
   * A task was cancelled: its state is kept as failed first (a crash after it does not report a
   * dropped pin as done), then its pin is dropped, then the task forgotten.
   */
  void cancelled(DistributionTask task) throws IOException {
    save(new TaskFile(task, TargetState.FAILED.token(), "cancelled", 0, 0));
    running.remove(task.id());
    done.remove(task.id());
    pinCheckedNanos.remove(task.id());
    dropUnlessPinnedByAnother(task);
    Files.deleteIfExists(file(task.id()));
    log.info("distribution task {} cancelled", task.id());
  }

  /** Drops the pin of {@code task}'s file, unless another task running or done here pins it too. */
  private void dropUnlessPinnedByAnother(DistributionTask task) throws IOException {
    for (TaskRunner r : running.values()) {
      if (r.task().fid().equals(task.fid()) && !r.task().id().equals(task.id())) {
        return;
      }
    }
    for (Done d : done.values()) {
      if (d.link().task().fid().equals(task.fid()) && !d.link().task().id().equals(task.id())) {
        return;
      }
    }
    pins.drop(dev.wimg.protocol.Fid.parse(task.fid()));
    log.info("the pin of {} (task {}) is dropped", task.fid(), task.id());
  }

  private void know(DistributionTask task) {
    for (DistributionTask.Piece p : task.pieces()) {
      piecesByHash.put(p.sha256(), dev.wimg.protocol.Fid.parse(p.fid()));
    }
  }

  /** Tasks running now (tests, status). */
  public int running() {
    return running.size();
  }

  private Path file(String id) {
    return dir.resolve(DistributionTask.checkId(id) + ".json");
  }

  private void save(TaskFile task) throws IOException {
    Path target = file(task.definition().id());
    Path temp = target.resolveSibling(target.getFileName() + ".tmp");
    try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE)) {
      out.write(java.nio.ByteBuffer.wrap(json.writeValueAsBytes(task)));
      out.force(true);
    }
    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel folder = FileChannel.open(dir, StandardOpenOption.READ)) {
      folder.force(true);
    }
  }

  /** Stops every runner (their tasks resume at the next start) and the HTTP client. */
  @Override
  public void close() {
    closed = true;
    doneReports.interrupt();
    if (lan != null) {
      lan.close();
    }
    fetch.close(); // the fetches under way fail at once, so the runners stop within their join
    for (TaskRunner runner : running.values()) {
      runner.stop();
    }
    http.close();
  }
}
