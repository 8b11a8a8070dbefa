package dev.wimg.server.internal.upload;

import dev.wimg.protocol.Fid;
import dev.wimg.server.internal.headers.MimeTypes;
import dev.wimg.server.internal.http.BodySink;
import dev.wimg.server.internal.http.Exchange;
import dev.wimg.server.internal.large.Manifest;
import dev.wimg.storage.NewFile;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A raw upload larger than one chunk, or of unknown length: stored as it streams in, as chunks of
 * {@link #CHUNK_BYTES} (needles of their own, each with its SHA-256) and then a manifest needle
 * that lists them ({@link Manifest}), whose fid is the file's. Memory stays bounded whatever the
 * file's size: the chunk being filled and at most {@link #WRITES_IN_FLIGHT} being written; past
 * that, the connection reads nothing until a write completes ({@link BodySink#paused}). A body
 * that ends within one chunk is stored as a plain file.
 *
 * <p>The chunk boundaries are at multiples of {@link #CHUNK_BYTES} in the file. Each chunk is
 * acknowledged by the store like any upload (durable, and in a cluster held by its copies) before
 * the manifest is written; the answer (201, as for any upload, {@code size} the file's) comes once
 * the manifest is. If anything fails, the chunks stored so far are deleted again.
 *
 * <p>Confined to the event loop, except the hashing and the store's work, whose results come back
 * to it.
 */
final class ChunkedUpload implements BodySink {

  /** Bytes per chunk, and the size above which an upload is chunked. */
  static final int CHUNK_BYTES = 8 << 20;
  /** Chunks written at once; the next waits (and the connection reads nothing) past it. */
  static final int WRITES_IN_FLIGHT = 2;

  private final UploadHandler owner;
  private final Exchange ex;
  private final String name;
  private final String mime;
  private final long limit;
  private final long lastModified = System.currentTimeMillis();

  /** The chunk being filled: buffers as they came off the socket. */
  private final List<ByteBuf> filling = new ArrayList<>();
  private long fillingBytes;
  /** Bytes of the file received so far. */
  private long received;
  /** Bytes held in memory now: the chunk being filled and those being written. */
  private long heldBytes;
  /** The chunks stored, by index; null while a chunk's write runs. */
  private final List<Manifest.Chunk> chunks = new ArrayList<>();
  private int writing;
  private boolean paused;
  private boolean bodyComplete;
  /** Set once: the upload failed or the connection went; no more writes, no answer but one. */
  private Throwable failure;
  private boolean aborted;

  ChunkedUpload(UploadHandler owner, Exchange ex, String name, String mime, long limit) {
    this.owner = owner;
    this.ex = ex;
    this.name = name;
    this.mime = mime;
    this.limit = limit;
  }

  @Override
  public boolean add(HttpContent content) {
    ByteBuf bytes = content.content();
    int n = bytes.readableBytes();
    if (failure != null || aborted) {
      content.release();
      return false;
    }
    if (received + n > limit) {
      content.release();
      abort();
      ex.closeAfterResponse();
      ex.error(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "upload exceeds the limit of " + limit + " bytes");
      return false;
    }
    if (!owner.server().uploads().tryReserve(n)) {
      content.release();
      long most = owner.server().uploads().limitBytes();
      boolean neverFits = heldBytes + n > most;
      abort();
      if (neverFits) {
        // even alone it would never fit the memory all uploads share: not worth a retry
        ex.closeAfterResponse();
        ex.error(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "upload exceeds the limit of "
            + most + " bytes");
      } else {
        owner.busy(ex);
      }
      return false;
    }
    heldBytes += n;
    received += n;
    while (bytes.isReadable()) {
      int take = (int) Math.min(bytes.readableBytes(), CHUNK_BYTES - fillingBytes);
      filling.add(bytes.readRetainedSlice(take));
      fillingBytes += take;
      if (fillingBytes == CHUNK_BYTES) {
        writeChunk();
      }
    }
    content.release();
    paused = writing >= WRITES_IN_FLIGHT;
    return true;
  }

  @Override
  public boolean paused() {
    return paused;
  }

  @Override
  public void finish() {
    bodyComplete = true;
    if (chunks.isEmpty() && writing == 0) {
      // The whole body fits one chunk: a plain file.
      List<ByteBuffer> data = new ArrayList<>();
      for (ByteBuf b : filling) {
        Collections.addAll(data, b.nioBuffers());
      }
      List<ByteBuf> held = new ArrayList<>(filling);
      filling.clear();
      long heldBytes = fillingBytes;
      fillingBytes = 0;
      owner.store(ex, List.of(new NewFile(name, mime, lastModified, data)), false, () -> {
        held.forEach(ByteBuf::release);
        releaseBudget(heldBytes);
      });
      return;
    }
    if (fillingBytes > 0) {
      writeChunk();
    }
    maybeComplete();
  }

  /** Hands the filled chunk to the store: hashed on the blocking pool, then written. */
  private void writeChunk() {
    List<ByteBuf> buffers = new ArrayList<>(filling);
    filling.clear();
    long size = fillingBytes;
    fillingBytes = 0;
    int index = chunks.size();
    long offset = (long) index * CHUNK_BYTES;
    chunks.add(null);
    writing++;
    List<ByteBuffer> data = new ArrayList<>();
    for (ByteBuf b : buffers) {
      Collections.addAll(data, b.nioBuffers());
    }
    CompletableFuture<Manifest.Chunk> stored;
    try {
      stored = CompletableFuture.supplyAsync(() -> sha256(data), owner.server().blocking())
          .thenCompose(sha -> owner.server().store().write(new NewFile(null, null, lastModified, data))
              .thenApply(r -> new Manifest.Chunk(r.fid(), offset, (int) size, sha)));
    } catch (RuntimeException e) {
      stored = CompletableFuture.failedFuture(e);
    }
    stored.whenComplete((chunk, e) -> ex.onEventLoop(() -> {
      buffers.forEach(ByteBuf::release);
      releaseBudget(size);
      writing--;
      if (e != null) {
        fail(e);
      } else {
        chunks.set(index, chunk);
        if (failure != null || aborted) {
          deleteChunks(); // the upload failed meanwhile: this one is an orphan too
        }
      }
      if (paused && writing < WRITES_IN_FLIGHT && failure == null && !aborted) {
        paused = false;
        ex.resumeBody();
      }
      maybeComplete();
    }, () -> buffers.forEach(ByteBuf::release)));
  }

  private static byte[] sha256(List<ByteBuffer> data) {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
    for (ByteBuffer b : data) {
      digest.update(b.duplicate());
    }
    return digest.digest();
  }

  /** Once the body is in and every chunk stored: the manifest, then the answer. */
  private void maybeComplete() {
    if (!bodyComplete || writing > 0 || failure != null || aborted) {
      return;
    }
    Manifest manifest = new Manifest(received, CHUNK_BYTES, chunks);
    NewFile file = new NewFile(name, mime, lastModified, List.of(manifest.encode()), true);
    owner.server().store().write(file, ex.ctx().executor()).whenComplete((written, e) ->
        ex.onEventLoop(() -> {
          if (e != null) {
            fail(e);
            return;
          }
          String fid = written.fid().toString();
          owner.created(ex, new UploadHandler.UploadResult(fid, "/" + fid, received,
              MimeTypes.effective(mime, name), written.etag()), "/" + fid);
        }, () -> { }));
  }

  /** The upload failed: one answer, the chunks stored so far deleted. */
  private void fail(Throwable e) {
    if (failure != null) {
      return;
    }
    failure = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
        ? e.getCause() : e;
    releaseFilling();
    if (!bodyComplete) {
      ex.closeAfterResponse();
    }
    List<Fid> orphans = storedChunks();
    Collections.fill(chunks, null);
    owner.failed(ex, failure, "a " + received + "-byte file in chunks", orphans);
  }

  private List<Fid> storedChunks() {
    List<Fid> stored = new ArrayList<>();
    for (Manifest.Chunk c : chunks) {
      if (c != null) {
        stored.add(c.fid());
      }
    }
    return stored;
  }

  private void deleteChunks() {
    for (Fid fid : storedChunks()) {
      owner.server().store().delete(fid);
    }
    Collections.fill(chunks, null);
  }

  @Override
  public void abort() {
    if (aborted) {
      return;
    }
    aborted = true;
    releaseFilling();
    if (failure == null) {
      deleteChunks();
    }
  }

  private void releaseFilling() {
    filling.forEach(ByteBuf::release);
    filling.clear();
    releaseBudget(fillingBytes);
    fillingBytes = 0;
  }

  private void releaseBudget(long bytes) {
    owner.server().uploads().release(bytes);
    heldBytes -= bytes;
  }
}
