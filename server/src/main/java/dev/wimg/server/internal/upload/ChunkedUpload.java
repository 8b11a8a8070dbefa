package dev.wimg.server.internal.upload;

import dev.wimg.server.internal.headers.MimeTypes;
import dev.wimg.server.internal.http.BodySink;
import dev.wimg.server.internal.http.Exchange;
import dev.wimg.server.internal.large.Manifest;
import dev.wimg.storage.NewFile;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A raw upload larger than one chunk, or of unknown length: stored as it streams in, as chunks
 * ({@link ChunkStream}) and then a manifest needle that lists them ({@link Manifest}), whose fid
 * is the file's. A body that ends within one chunk is stored as a plain file.
 *
 * <p>Each chunk is acknowledged by the store like any upload (durable, and in a cluster held by
 * its copies) before the manifest is written; the answer (201, as for any upload, {@code size}
 * the file's) comes once the manifest is. If anything fails, the chunks stored so far are deleted
 * again.
 *
 * <p>Confined to the event loop.
 */
final class ChunkedUpload implements BodySink {

  /** Bytes per chunk, and the size above which an upload is chunked. */
  static final int CHUNK_BYTES = ChunkStream.CHUNK_BYTES;

  private final UploadHandler owner;
  private final Exchange ex;
  private final String name;
  private final String mime;
  private final long limit;
  private final long lastModified = System.currentTimeMillis();
  private final ChunkStream stream;
  private long received;
  private boolean bodyComplete;

  ChunkedUpload(UploadHandler owner, Exchange ex, String name, String mime, long limit) {
    this.owner = owner;
    this.ex = ex;
    this.name = name;
    this.mime = mime;
    this.limit = limit;
    this.stream = new ChunkStream(owner, ex, 0, lastModified, failure -> {
      if (!bodyComplete) {
        ex.closeAfterResponse();
      }
      owner.failed(ex, failure, "a file in chunks, " + received + " bytes received", List.of());
    });
  }

  @Override
  public boolean add(HttpContent content) {
    int n = content.content().readableBytes();
    if (received + n > limit) {
      content.release();
      abort();
      ex.closeAfterResponse();
      ex.error(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "upload exceeds the limit of " + limit + " bytes");
      return false;
    }
    received += n;
    return stream.take(content, this::abort);
  }

  @Override
  public boolean paused() {
    return stream.paused();
  }

  @Override
  public void finish() {
    bodyComplete = true;
    if (stream.nothingCut()) {
      // The whole body fits one chunk: a plain file.
      List<ByteBuf> held = stream.takeFilling();
      List<ByteBuffer> data = new ArrayList<>();
      long bytes = 0;
      for (ByteBuf b : held) {
        bytes += b.readableBytes();
        Collections.addAll(data, b.nioBuffers());
      }
      long heldBytes = bytes;
      owner.store(ex, List.of(new NewFile(name, mime, lastModified, data)), false, () -> {
        held.forEach(ByteBuf::release);
        stream.releaseTaken(heldBytes);
      });
      return;
    }
    stream.end(() -> {
      Manifest manifest = new Manifest(received, CHUNK_BYTES, stream.chunks());
      NewFile file = new NewFile(name, mime, lastModified, List.of(manifest.encode()), true);
      owner.server().store().write(file, ex.ctx().executor()).whenComplete((written, e) ->
          ex.onEventLoop(() -> {
            if (e != null) {
              stream.drop();
              owner.failed(ex, e, "the manifest of a " + received + "-byte file", List.of());
              return;
            }
            String fid = written.fid().toString();
            owner.created(ex, new UploadHandler.UploadResult(fid, "/" + fid, received,
                MimeTypes.effective(mime, name), written.etag()), "/" + fid);
          }, () -> { }));
    });
  }

  @Override
  public void abort() {
    stream.drop();
  }
}
