package dev.wimg.server.internal.files;

import dev.wimg.server.internal.http.ErrorResponses;
import dev.wimg.server.internal.http.Exchange;
import dev.wimg.server.internal.http.FilePath;
import dev.wimg.server.internal.http.Router;
import dev.wimg.server.internal.http.ServerContext;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import dev.wimg.protocol.Fid;
import dev.wimg.server.internal.large.LargeFiles;
import dev.wimg.storage.Store;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code DELETE /<fid>[/<name>]}: 204 once the tombstone is durable, 404 if there was no such
 * file (same answer for a wrong cookie). The write key was checked by the {@link Router}. The
 * file's derived pictures are deleted with it.
 */
public final class DeleteHandler {

  private static final Logger log = LoggerFactory.getLogger(DeleteHandler.class);

  private final ServerContext server;

  public DeleteHandler(ServerContext server) {
    this.server = server;
  }

  public void handle(Exchange ex, FilePath path) {
    CompletableFuture<Boolean> deletion;
    try {
      deletion = deleted(path.fid());
    } catch (RuntimeException e) {
      deletion = CompletableFuture.failedFuture(e);
    }
    deletion.whenComplete((deleted, failure) -> ex.onEventLoop(() -> {
      String noSpace = failure == null ? null : ErrorResponses.outOfSpace(failure);
      String noCopies = failure == null ? null : ErrorResponses.unavailable(failure);
      if (noCopies != null) {
        log.warn("deleting {} not acknowledged: {}", path.fid(), noCopies);
        ex.unavailable("could not delete the file: " + noCopies);
      } else if (noSpace != null) {
        log.warn("deleting {} refused with 507, {}: {}", path.fid(), noSpace, failure.getMessage());
        ex.error(HttpResponseStatus.INSUFFICIENT_STORAGE, "could not delete the file: " + noSpace);
      } else if (failure != null) {
        log.error("deleting {} failed", path.fid(), failure);
        ex.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "could not delete the file");
      } else if (deleted) {
        ex.respond(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT,
            Unpooled.EMPTY_BUFFER));
      } else {
        ex.error(HttpResponseStatus.NOT_FOUND, ErrorResponses.FILE_NOT_FOUND);
      }
    }, () -> { }));
  }

  /**
   * Deletes the file with its derived pictures; a large file's chunks after its manifest (so the
   * file is gone at once; a chunk whose delete fails is garbage no fid names, logged).
   */
  private CompletableFuture<Boolean> deleted(Fid fid) {
    Store store = server.store();
    return CompletableFuture.supplyAsync(() -> {
      try {
        return LargeFiles.chunksOf(store, fid);
      } catch (java.io.IOException e) {
        log.error("deleting {}: its chunks cannot be listed, they stay as garbage: {}", fid, e.getMessage());
        return List.<Fid>of();
      }
    }, server.blocking()).thenCompose(chunks -> server.transforms().deleteOriginal(fid, server.blocking())
        .thenCompose(deleted -> {
          if (!deleted || chunks.isEmpty()) {
            return CompletableFuture.completedFuture(deleted);
          }
          CompletableFuture<?>[] each = chunks.stream().map(chunk -> server.chunks().delete(chunk)
              .exceptionally(e -> {
                log.error("deleting chunk {} of {} failed; it stays as garbage", chunk, fid, e);
                return false;
              })).toArray(CompletableFuture[]::new);
          return CompletableFuture.allOf(each).thenApply(done -> true);
        }));
  }
}
