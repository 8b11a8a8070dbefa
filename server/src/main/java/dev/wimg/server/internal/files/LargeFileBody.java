package dev.wimg.server.internal.files;

import dev.wimg.server.internal.http.Exchange;
import dev.wimg.server.internal.large.Manifest;
import dev.wimg.storage.StoredFile;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpResponse;
import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams bytes {@code [first, last]} of a large file from its chunks, one chunk at a time: the
 * next chunk is read (and checked: a chunk's needle CRC32C, and its size against the manifest) on
 * the blocking pool once the last one has left for the socket, so a download holds at most one
 * chunk's pages (those it sent are taken out of the process: {@link SentPages}) and the client's
 * pace sets the disk's.
 *
 * <p>The first chunk is read before the head is sent: a file whose first chunk fails its check is
 * answered 500 like any damaged file. A later chunk that fails closes the connection, so the
 * client sees a body shorter than its Content-Length, never a wrong byte.
 */
final class LargeFileBody {

  private static final Logger log = LoggerFactory.getLogger(LargeFileBody.class);

  private final Exchange ex;
  private final Manifest manifest;
  private final long last;
  private final HttpResponse head;
  private final Runnable onFirstChunkFailed;
  private long at;

  /**
   * @param onFirstChunkFailed answers the request when the first chunk cannot be read (nothing
   *                           was sent yet)
   */
  LargeFileBody(Exchange ex, Manifest manifest, long first, long last, HttpResponse head,
                Runnable onFirstChunkFailed) {
    this.ex = ex;
    this.manifest = manifest;
    this.at = first;
    this.last = last;
    this.head = head;
    this.onFirstChunkFailed = onFirstChunkFailed;
  }

  void start() {
    readNext(true);
  }

  private void readNext(boolean first) {
    Manifest.Chunk chunk = manifest.chunks().get(manifest.chunkAt(at));
    Runnable readChunk = () -> {
      StoredFile file;
      Exception failure = null;
      try {
        file = ex.server().chunks().read(chunk);
        if (file == null) {
          failure = new IOException("chunk " + chunk.fid() + " is missing");
        } else if (file.size() != chunk.size() || file.manifest()) {
          failure = new IOException("chunk " + chunk.fid() + " holds " + file.size()
              + " bytes, the manifest says " + chunk.size());
        }
      } catch (Exception e) {
        file = null;
        failure = e;
      }
      StoredFile read = file;
      Exception problem = failure;
      ex.onEventLoop(() -> {
        if (problem != null) {
          log.error("large file {}: {}", ex.target().path(), problem.getMessage());
          if (first) {
            onFirstChunkFailed.run();
          } else {
            ex.abortBody();
          }
          return;
        }
        if (first) {
          ex.respondHead(head);
        }
        send(chunk, read);
      }, () -> { });
    };
    try {
      ex.server().blocking().execute(readChunk);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      if (first) {
        ex.unavailable("server is busy; retry later");
      } else {
        ex.abortBody();
      }
    }
  }

  private void send(Manifest.Chunk chunk, StoredFile file) {
    long from = at - chunk.offset();
    long to = Math.min(last, chunk.end() - 1) - chunk.offset();
    ByteBuffer slice = file.data().slice((int) from, (int) (to - from + 1));
    at = chunk.offset() + to + 1;
    ex.writeBody(Unpooled.wrappedBuffer(slice)).addListener(f -> {
      // sent (or never will be): its pages leave this process, the page cache keeps them
      SentPages.release(file);
      Reference.reachabilityFence(file);
      if (!f.isSuccess()) {
        return; // the connection is gone; the dispatcher cleans up
      }
      if (at > last) {
        ex.endBody();
      } else {
        readNext(false);
      }
    });
  }
}
