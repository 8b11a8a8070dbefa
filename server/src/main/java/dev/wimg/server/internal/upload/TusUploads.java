package dev.wimg.server.internal.upload;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.wimg.protocol.Fid;
import dev.wimg.server.internal.large.Manifest;
import dev.wimg.server.internal.large.ChunkStore;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The resumable uploads in progress ({@link TusHandler}): each one's state in memory and in a
 * file of its own, {@code <data>/uploads/<id>.json}, written whole to a temporary file, forced and
 * renamed over the last (then the folder forced), so a restart finds every upload as its last
 * acknowledged {@code PATCH} left it. Its bytes are chunk needles in the store from the moment
 * they are acknowledged.
 *
 * <p>An upload not finished by its expiry (default 24 h after its creation, {@code
 * ServerConfig#uploadExpiry}) is removed with its chunks, by a sweep at start and then every
 * {@link #sweepPeriod}; a finished one keeps its record until then (so a client can still ask for
 * its fid), its chunks being the file's. The chunks' space comes back when their volume is
 * vacuumed, as any deleted file's.
 *
 * <p>Thread-safe: the map is concurrent, and an upload's state changes only while its owner holds
 * it ({@link #lock}).
 */
public final class TusUploads implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TusUploads.class);

  /** Longest time between two sweeps for expired uploads. */
  static final Duration SWEEP_EVERY = Duration.ofMinutes(1);
  /** Shortest time between two sweeps (for a short expiry). */
  static final Duration SWEEP_AT_MOST_EVERY = Duration.ofMillis(100);

  /**
   * One upload.
   *
   * @param id        random, 32 hex digits
   * @param length    the file's size as declared at creation
   * @param offset    bytes stored so far
   * @param metadata  the {@code Upload-Metadata} header as sent, or null
   * @param expiresAt epoch ms
   * @param partial   a part of a later concatenation ({@code Upload-Concat: partial}): no file of
   *                  its own when complete
   * @param chunks    the bytes so far, in order
   * @param fid       the file's fid once complete (not for a partial), else null
   */
  record Upload(String id, long length, long offset, String metadata, long expiresAt, boolean partial,
                List<Manifest.Chunk> chunks, String fid) {

    Upload {
      chunks = List.copyOf(chunks);
    }

    boolean complete() {
      return offset == length;
    }

    Upload appended(List<Manifest.Chunk> more, long bytes) {
      List<Manifest.Chunk> all = new ArrayList<>(chunks);
      all.addAll(more);
      return new Upload(id, length, offset + bytes, metadata, expiresAt, partial, all, fid);
    }

    Upload finished(String fileFid) {
      return new Upload(id, length, offset, metadata, expiresAt, partial, chunks, fileFid);
    }
  }

  private final Path dir;
  private final ChunkStore chunks;
  private final ObjectMapper json = new ObjectMapper();
  private final Duration expiry;
  private final Map<String, Upload> uploads = new ConcurrentHashMap<>();
  /** Uploads a request is changing now: a second one at once gets 409. */
  private final Map<String, Boolean> locked = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "wimg-tus-expiry");
    t.setDaemon(true);
    return t;
  });

  /**
   * Opens the uploads kept in {@code dir} (created if missing); those past their expiry are
   * removed at once, the others by a sweep every {@link #sweepPeriod} once they are.
   *
   * @param expiry how long after its creation an unfinished upload is removed
   */
  public static TusUploads open(Path dir, ChunkStore chunks, Duration expiry) throws IOException {
    return new TusUploads(dir, chunks, expiry);
  }

  /**
   * How often uploads are checked for expiry: every {@link #SWEEP_EVERY}, or every tenth of a
   * shorter expiry (not more often than {@link #SWEEP_AT_MOST_EVERY}), so that an upload is
   * removed at most a tenth of its expiry late.
   */
  static Duration sweepPeriod(Duration expiry) {
    Duration tenth = expiry.dividedBy(10);
    return tenth.compareTo(SWEEP_EVERY) > 0 ? SWEEP_EVERY
        : tenth.compareTo(SWEEP_AT_MOST_EVERY) < 0 ? SWEEP_AT_MOST_EVERY : tenth;
  }

  private TusUploads(Path dir, ChunkStore chunks, Duration expiry) throws IOException {
    this.dir = dir;
    this.chunks = chunks;
    this.expiry = expiry;
    Files.createDirectories(dir);
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path p : files) {
        String name = p.getFileName().toString();
        if (name.endsWith(".tmp")) {
          Files.deleteIfExists(p); // a write cut short: the previous state is in the .json
        } else if (name.endsWith(".json")) {
          try {
            Upload u = decode(json.readTree(Files.readAllBytes(p)));
            uploads.put(u.id(), u);
          } catch (IOException | RuntimeException e) {
            log.error("resumable upload state {} cannot be read, left as it is: {}", p, e.toString());
          }
        }
      }
    }
    sweep();
    long period = sweepPeriod(expiry).toMillis();
    sweeper.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
  }

  /** A new upload, persisted. */
  Upload create(long length, String metadata, boolean partial) throws IOException {
    byte[] id = new byte[16];
    random.nextBytes(id);
    Upload u = new Upload(HexFormat.of().formatHex(id), length, 0, metadata,
        System.currentTimeMillis() + expiry.toMillis(), partial, List.of(), null);
    save(u);
    return u;
  }

  Upload get(String id) {
    Upload u = uploads.get(id);
    return u == null || u.expiresAt() < System.currentTimeMillis() && !u.complete() ? null : u;
  }

  /** Takes {@code id} for one request; false if another holds it. */
  boolean lock(String id) {
    return locked.putIfAbsent(id, Boolean.TRUE) == null;
  }

  void unlock(String id) {
    locked.remove(id);
  }

  /** Persists {@code u} (forced) and makes it the state of its id. */
  void save(Upload u) throws IOException {
    Path tmp = dir.resolve(u.id() + ".tmp");
    Path file = dir.resolve(u.id() + ".json");
    byte[] bytes = json.writeValueAsBytes(encode(u));
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ch.write(java.nio.ByteBuffer.wrap(bytes));
      ch.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    forceDir();
    uploads.put(u.id(), u);
  }

  /** Forgets {@code id}; deletes its chunks unless they became a file's. */
  void remove(Upload u, boolean deleteChunks) throws IOException {
    uploads.remove(u.id());
    Files.deleteIfExists(dir.resolve(u.id() + ".json"));
    forceDir();
    if (deleteChunks) {
      for (Manifest.Chunk c : u.chunks()) {
        chunks.delete(c.fid()).whenComplete((deleted, e) -> {
          if (e != null) {
            log.warn("could not delete chunk {} of upload {}", c.fid(), u.id(), e);
          }
        });
      }
    }
  }

  private void forceDir() throws IOException {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  /** Removes the uploads past their expiry: their chunks too unless they became a file. */
  void sweep() {
    long now = System.currentTimeMillis();
    for (Upload u : List.copyOf(uploads.values())) {
      if (u.expiresAt() < now && lock(u.id())) {
        try {
          remove(u, u.fid() == null);
          log.info("resumable upload {} expired with {} of {} bytes; {}", u.id(), u.offset(), u.length(),
              u.fid() == null ? "its chunks are deleted" : "its file " + u.fid() + " stays");
        } catch (IOException | RuntimeException e) {
          log.warn("removing expired upload {} failed", u.id(), e);
        } finally {
          unlock(u.id());
        }
      }
    }
  }

  int count() {
    return uploads.size();
  }

  private ObjectNode encode(Upload u) {
    ObjectNode o = json.createObjectNode();
    o.put("id", u.id()).put("length", u.length()).put("offset", u.offset())
        .put("metadata", u.metadata()).put("expiresAt", u.expiresAt()).put("partial", u.partial())
        .put("fid", u.fid());
    ArrayNode chunks = o.putArray("chunks");
    for (Manifest.Chunk c : u.chunks()) {
      chunks.addObject().put("fid", c.fid().toString()).put("offset", c.offset()).put("size", c.size())
          .put("sha256", HexFormat.of().formatHex(c.sha256()));
    }
    return o;
  }

  private static Upload decode(JsonNode o) {
    List<Manifest.Chunk> chunks = new ArrayList<>();
    for (JsonNode c : o.path("chunks")) {
      chunks.add(new Manifest.Chunk(Fid.parse(c.get("fid").asText()), c.get("offset").asLong(),
          c.get("size").asInt(), HexFormat.of().parseHex(c.get("sha256").asText())));
    }
    return new Upload(o.get("id").asText(), o.get("length").asLong(), o.get("offset").asLong(),
        o.hasNonNull("metadata") ? o.get("metadata").asText() : null, o.get("expiresAt").asLong(),
        o.path("partial").asBoolean(), chunks, o.hasNonNull("fid") ? o.get("fid").asText() : null);
  }

  /** Stops the expiry sweep (the state is on disk already). */
  @Override
  public void close() {
    sweeper.shutdownNow();
  }
}
