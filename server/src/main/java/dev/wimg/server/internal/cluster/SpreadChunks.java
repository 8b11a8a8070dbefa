package dev.wimg.server.internal.cluster;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.protocol.ClusterView;
import dev.wimg.protocol.Fid;
import dev.wimg.server.internal.large.ChunkStore;
import dev.wimg.server.internal.large.Manifest;
import dev.wimg.storage.NewFile;
import dev.wimg.storage.StoredFile;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster node's {@link ChunkStore}: consecutive chunks go to the writable groups in turn, this
 * node's own included, so a large file lies across the groups' disks and its reads are shared by
 * their members.
 *
 * <p>A chunk for another group is sent as a plain upload ({@code POST /files}, the node's write
 * key as bearer) to a serving member of that group, which acknowledges it once its group holds it
 * durably, as any upload; if that fails (no member answers, a refusal), the chunk is stored here
 * instead, so a large upload never fails for another group's trouble. A chunk of another group is
 * read by {@code GET /<fid>} from one of its members after another until one answers with exactly
 * the chunk's bytes: its length and the SHA-256 the manifest lists are checked before any byte is
 * used. A delete goes to a member the same way.
 *
 * <p>The groups are the trackers' {@code GET /cluster}, fetched again when older than
 * {@link #VIEW_TTL}; without any view (no tracker answered yet) every chunk stays here.
 */
public final class SpreadChunks implements ChunkStore {

  private static final Logger log = LoggerFactory.getLogger(SpreadChunks.class);

  /** How long a fetched cluster view is used. */
  static final Duration VIEW_TTL = Duration.ofSeconds(5);
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private final ChunkStore local;
  private final int ownGroup;
  private final List<URI> trackers;
  private final String writeKey;
  private final HttpClient http;
  private final ChunkFetch fetch;
  private final LongSupplier nanoClock;
  private final ObjectMapper json = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
  private final AtomicInteger turn = new AtomicInteger();
  private volatile ClusterView view;
  private volatile long viewNanos;
  /** A background fetch of the view is under way. */
  private final java.util.concurrent.atomic.AtomicBoolean refreshing = new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * @param local    this node's chunks
   * @param ownGroup this node's group
   * @param writeKey the key sent to other groups' members with a chunk or a delete, or null
   */
  public SpreadChunks(ChunkStore local, int ownGroup, List<URI> trackers, String writeKey, LongSupplier nanoClock) {
    this.local = local;
    this.ownGroup = ownGroup;
    this.trackers = List.copyOf(trackers);
    this.writeKey = writeKey;
    this.nanoClock = nanoClock;
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(2)).followRedirects(HttpClient.Redirect.NEVER).build();
    this.fetch = new ChunkFetch(Duration.ofSeconds(2), Duration.ofSeconds(30));
  }

  @Override
  public CompletableFuture<Fid> write(NewFile chunk) {
    List<ClusterView.Group> writable = new ArrayList<>();
    for (ClusterView.Group g : groups()) {
      if (g.writable() && (g.id() == ownGroup || !members(g, true).isEmpty())) {
        writable.add(g);
      }
    }
    if (writable.size() < 2) {
      return local.write(chunk);
    }
    ClusterView.Group group = writable.get(Math.floorMod(turn.getAndIncrement(), writable.size()));
    if (group.id() == ownGroup) {
      return local.write(chunk);
    }
    URI member = members(group, true).getFirst();
    byte[] body = bytes(chunk.data());
    HttpRequest.Builder request = HttpRequest.newBuilder(member.resolve("/files")).timeout(TIMEOUT)
        .header("Content-Type", "application/octet-stream")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    authorize(request);
    return http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofByteArray())
        .thenApply(r -> {
          if (r.statusCode() != 201) {
            throw new IllegalStateException(member + " answered " + r.statusCode());
          }
          try {
            Fid fid = Fid.parse(json.readTree(r.body()).path("fid").asText());
            if (fid.group() != group.id()) {
              throw new IllegalStateException(member + " stored it in group " + fid.group() + ", not " + group.id());
            }
            return fid;
          } catch (IOException e) {
            throw new IllegalStateException(member + " answered no fid", e);
          }
        })
        .exceptionallyCompose(e -> {
          log.warn("a chunk for group {} could not be stored on {} ({}): stored here instead", group.id(), member,
              e.getMessage());
          return local.write(chunk);
        });
  }

  @Override
  public StoredFile read(Manifest.Chunk chunk) throws IOException {
    Fid fid = chunk.fid();
    if (fid.group() == ownGroup) {
      return local.read(chunk);
    }
    List<String> failures = new ArrayList<>();
    for (ClusterView.Group g : groups()) {
      if (g.id() != fid.group()) {
        continue;
      }
      for (URI member : members(g, false)) {
        try {
          byte[] bytes = fetch.fetch(member, fid, chunk.size(), chunk.sha256(), java.util.Map.of());
          return new StoredFile(fid, null, null, 0, 0, ByteBuffer.wrap(bytes).asReadOnlyBuffer());
        } catch (InterruptedIOException e) {
          throw e;
        } catch (IOException e) {
          failures.add(e.getMessage());
        }
      }
    }
    throw new IOException("chunk " + fid + " could not be read from group " + fid.group()
        + (failures.isEmpty() ? ": no member of it serves reads" : ": " + failures));
  }

  @Override
  public CompletableFuture<Boolean> delete(Fid fid) {
    if (fid.group() == ownGroup) {
      return local.delete(fid);
    }
    for (ClusterView.Group g : groups()) {
      if (g.id() == fid.group() && !members(g, true).isEmpty()) {
        URI member = members(g, true).getFirst();
        HttpRequest.Builder request = HttpRequest.newBuilder(member.resolve("/" + fid)).timeout(TIMEOUT).DELETE();
        authorize(request);
        return http.sendAsync(request.build(), HttpResponse.BodyHandlers.discarding()).thenApply(r -> {
          if (r.statusCode() == 404) {
            return false;
          }
          if (r.statusCode() != 204 && r.statusCode() != 200) {
            throw new IllegalStateException("deleting chunk " + fid + " on " + member + ": " + r.statusCode());
          }
          return true;
        });
      }
    }
    return CompletableFuture.failedFuture(new IOException("no member of group " + fid.group()
        + " takes the delete of chunk " + fid + " now"));
  }

  /**
   * The groups of the last cluster view. One older than {@link #VIEW_TTL} (or none yet) is fetched
   * again in the background, never waited for: writes are called on event loops.
   */
  private List<ClusterView.Group> groups() {
    long now = nanoClock.getAsLong();
    if ((view == null || now - viewNanos > VIEW_TTL.toNanos()) && refreshing.compareAndSet(false, true)) {
      viewNanos = now; // a failed fetch too: the trackers are not asked again at every chunk
      fetchView(0);
    }
    ClusterView known = view;
    return known == null ? List.of() : known.groups();
  }

  /** Asks tracker {@code i} for the cluster view, the next one if it does not answer. */
  private void fetchView(int i) {
    if (i >= trackers.size()) {
      refreshing.set(false);
      return;
    }
    URI tracker = trackers.get(i);
    http.sendAsync(HttpRequest.newBuilder(tracker.resolve("/cluster")).timeout(Duration.ofSeconds(2)).GET().build(),
        HttpResponse.BodyHandlers.ofByteArray()).whenComplete((r, e) -> {
          try {
            if (e == null && r.statusCode() == 200) {
              view = json.treeToValue(json.readTree(r.body()), ClusterView.class);
              refreshing.set(false);
              return;
            }
          } catch (IOException | RuntimeException bad) {
            log.debug("cluster view from {}: {}", tracker, bad.getMessage());
          }
          fetchView(i + 1);
        });
  }

  /** Fetches the cluster view now and waits for it (at most 2 s per tracker): at start, and in tests. */
  public void refresh() {
    for (URI tracker : trackers) {
      try {
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(tracker.resolve("/cluster"))
            .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() == 200) {
          view = json.treeToValue(json.readTree(r.body()), ClusterView.class);
          viewNanos = nanoClock.getAsLong();
          return;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (IOException | RuntimeException e) {
        log.debug("cluster view from {}: {}", tracker, e.getMessage());
      }
    }
  }

  /** A group's members that take uploads ({@code serving}), or that serve reads (also {@code read-only}). */
  private static List<URI> members(ClusterView.Group group, boolean forWrites) {
    List<URI> urls = new ArrayList<>();
    for (ClusterView.Member m : group.members()) {
      if (m.state().equals("serving") || (!forWrites && m.state().equals("read-only"))) {
        urls.add(URI.create(m.url()));
      }
    }
    return urls;
  }

  private void authorize(HttpRequest.Builder request) {
    if (writeKey != null) {
      request.header("Authorization", "Bearer " + writeKey);
    }
  }

  private static byte[] bytes(List<ByteBuffer> data) {
    int size = 0;
    for (ByteBuffer b : data) {
      size += b.remaining();
    }
    byte[] out = new byte[size];
    int at = 0;
    for (ByteBuffer b : data) {
      int n = b.remaining();
      b.duplicate().get(out, at, n);
      at += n;
    }
    return out;
  }

  /** Stops the HTTP client and the chunk fetches' connections. */
  public void close() {
    fetch.close();
    http.close();
  }
}
