package dev.wimg.server.internal.replication;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.wimg.protocol.ClusterKey;
import dev.wimg.protocol.ClusterView;
import dev.wimg.protocol.Fid;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The small requests a storage node makes of its peers' {@code /replica} endpoints (the large
 * ones, its own records sent and the pages a catch-up reads, go over a {@link PeerChannel}): a
 * delete passed to the volume's writer, a peer's volume lengths, a peer's checksum of a volume, the
 * one record a repair reads ({@link ReplicaHandler} answers them). Every request carries the
 * cluster key.
 */
final class ReplicaClient {

  private final HttpClient http;
  private final ObjectMapper mapper;
  private final String clusterKey;

  ReplicaClient(HttpClient http, ObjectMapper mapper, String clusterKey) {
    this.http = http;
    this.mapper = mapper;
    this.clusterKey = clusterKey;
  }

  private HttpRequest.Builder request(URI uri) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(PeerSender.REQUEST_SECONDS));
    if (clusterKey != null) {
      b.header(ClusterKey.HEADER, clusterKey);
    }
    return b;
  }

  /** Asks the writer of {@code fid}'s volume to delete it; completes as {@code Store#delete}. */
  CompletableFuture<Boolean> delete(ClusterView.Member writer, Fid fid) {
    HttpRequest request = request(URI.create(writer.url()).resolve("/replica/" + fid)).DELETE().build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()).thenCompose(response -> {
      try {
        JsonNode body = mapper.readTree(response.body());
        if (response.statusCode() == 200 && body.has("deleted")) {
          return CompletableFuture.completedFuture(body.get("deleted").asBoolean());
        }
        String why = body.has("error") ? body.get("error").asText() : "status " + response.statusCode();
        return CompletableFuture.failedFuture(response.statusCode() == 503
            ? new NotEnoughCopiesException("the writer of " + fid + " (" + writer.url() + "): " + why)
            : new IOException("the writer of " + fid + " (" + writer.url() + ") answered " + why));
      } catch (IOException e) {
        return CompletableFuture.failedFuture(new IOException("the writer of " + fid + " ("
            + writer.url() + ") answered " + response.statusCode() + " with a body that is not JSON"));
      }
    }).exceptionallyCompose(e -> {
      Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
          ? e.getCause() : e;
      return CompletableFuture.failedFuture(cause instanceof IOException io && !(cause instanceof java.net.ConnectException)
          ? io : new NotEnoughCopiesException("the writer of " + fid + " (" + writer.url()
              + ") cannot be reached: " + cause));
    });
  }

  /**
   * Asks {@code peer} to replace its copy of {@code volume} by revision {@code revision}, read from
   * this node (its writer, which vacuumed it); completes once it has. A peer copies at disk and
   * link speed: the request may take as long as a whole volume's transfer.
   */
  CompletableFuture<Void> follow(URI peer, int volume, int revision) {
    HttpRequest request = request(peer.resolve("/replica/" + volume + "/follow?revision=" + revision))
        .timeout(FOLLOW_TIMEOUT).POST(HttpRequest.BodyPublishers.noBody()).build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()).thenCompose(response -> {
      if (response.statusCode() == 200) {
        return CompletableFuture.completedFuture(null);
      }
      String why;
      try {
        JsonNode body = mapper.readTree(response.body());
        why = body.has("error") ? body.get("error").asText() : "";
      } catch (IOException e) {
        why = "";
      }
      return CompletableFuture.failedFuture(new IOException(peer + " answered "
          + response.statusCode() + " " + why));
    });
  }

  /** Longest a peer may take to replace its copy of a volume ({@link #follow}). */
  static final Duration FOLLOW_TIMEOUT = Duration.ofMinutes(10);

  /** A peer's copy of a volume: its revision (vacuums) and length. */
  record PeerVolume(int revision, long end) {}

  /** The volumes {@code peer} holds, by volume id. */
  Map<Integer, PeerVolume> volumes(URI peer) throws IOException, InterruptedException {
    HttpResponse<byte[]> response = http.send(request(peer.resolve("/replica")).GET().build(),
        HttpResponse.BodyHandlers.ofByteArray());
    if (response.statusCode() != 200) {
      throw new IOException(peer + " answered " + response.statusCode() + " to GET /replica");
    }
    Map<Integer, PeerVolume> out = new LinkedHashMap<>();
    for (JsonNode v : mapper.readTree(response.body()).path("volumes")) {
      out.put(v.path("id").asInt(), new PeerVolume(v.path("revision").asInt(), v.path("end").asLong()));
    }
    return out;
  }

  /** CRC32C of {@code peer}'s copy of revision {@code revision} of {@code volume}, bytes {@code [0, to)}. */
  long crc(URI peer, int volume, int revision, long to) throws IOException, InterruptedException {
    HttpResponse<byte[]> response = http.send(request(peer.resolve("/replica/" + volume + "/crc?to="
        + to + "&revision=" + revision)).timeout(Duration.ofMinutes(10)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    JsonNode body = mapper.readTree(response.body());
    if (response.statusCode() != 200 || !body.has("crc")) {
      throw new IOException(peer + " answered " + response.statusCode() + " to a checksum of volume "
          + volume + (body.has("error") ? ": " + body.get("error").asText() : ""));
    }
    return Long.parseLong(body.get("crc").asText(), 16);
  }

  /**
   * Whole records of revision {@code revision} of {@code volume} from {@code from} on {@code
   * peer}, at most about {@code maxBytes} (or the one record there); empty at its end.
   */
  ByteBuffer records(URI peer, int volume, int revision, long from, int maxBytes)
      throws IOException, InterruptedException {
    HttpResponse<byte[]> response = http.send(request(peer.resolve("/replica/" + volume + "?from="
        + from + "&max=" + maxBytes + "&revision=" + revision)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    if (response.statusCode() != 200) {
      throw new IOException(peer + " answered " + response.statusCode() + " to a read of volume "
          + volume + " from " + from);
    }
    return ByteBuffer.wrap(response.body());
  }
}
