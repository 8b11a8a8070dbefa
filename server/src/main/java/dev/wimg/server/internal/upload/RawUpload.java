package dev.wimg.server.internal.upload;

import dev.wimg.server.internal.http.BodySink;
import dev.wimg.server.internal.http.Exchange;
import dev.wimg.storage.NewFile;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpContent;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A raw upload body: the request body is the file. Chunks are kept as they came off the socket
 * (retained slices of the read buffers) and given to the store as a list of {@link ByteBuffer}
 * views: no copy between the socket and the volume file.
 *
 * <p>Confined to the event loop until {@link #finish()}; after it, the buffers belong to the
 * store write and are released when it completes.
 */
final class RawUpload implements BodySink {

  private final UploadHandler owner;
  private final Exchange ex;
  private final String name;
  private final String mime;
  private final UploadQuota quota;
  private final List<ByteBuf> chunks = new ArrayList<>();
  private boolean released;

  RawUpload(UploadHandler owner, Exchange ex, String name, String mime, long limit, long reserved) {
    this.owner = owner;
    this.ex = ex;
    this.name = name;
    this.mime = mime;
    this.quota = new UploadQuota(owner, ex, limit, reserved);
  }

  @Override
  public boolean add(HttpContent content) {
    if (!quota.admit(content, this::abort)) {
      return false;
    }
    ByteBuf bytes = content.content();
    if (bytes.isReadable()) {
      chunks.add(bytes);
    } else {
      content.release();
    }
    return true;
  }

  @Override
  public void finish() {
    List<ByteBuffer> data = new ArrayList<>(chunks.size());
    for (ByteBuf chunk : chunks) {
      Collections.addAll(data, chunk.nioBuffers());
    }
    NewFile file = new NewFile(name, mime, System.currentTimeMillis(), data);
    owner.store(ex, List.of(file), false, this::release);
  }

  @Override
  public void abort() {
    release();
  }

  private void release() {
    if (released) {
      return;
    }
    released = true;
    for (ByteBuf chunk : chunks) {
      chunk.release();
    }
    chunks.clear();
    quota.releaseReservation();
  }
}
