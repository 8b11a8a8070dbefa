package dev.wimg.server.internal.upload;

import dev.wimg.protocol.Fid;
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
import java.util.function.Consumer;

/**
 * A request body cut into chunks of {@link #CHUNK_BYTES} as it arrives, each stored as a needle of
 * its own with its SHA-256 (a large file's parts, {@link Manifest.Chunk}): what a large raw upload
 * ({@link ChunkedUpload}) and a tus {@code PATCH} ({@link TusHandler}) share.
 *
 * <p>Memory stays bounded whatever the body's size: the chunk being filled and at most {@link
 * #WRITES_IN_FLIGHT} being written, all reserved from the upload budget; past that {@link
 * #paused()} is true and the owner's body sink tells the connection to read nothing until a write
 * completes (the stream then calls {@link Exchange#resumeBody()}).
 *
 * <p>Confined to the event loop, except the hashing and the store's work, whose results come back
 * to it.
 */
final class ChunkStream {

  /** Bytes per chunk, and the size above which a raw upload is chunked. */
  static final int CHUNK_BYTES = 8 << 20;
  /** Chunks written at once; past it the connection reads nothing until one is stored. */
  static final int WRITES_IN_FLIGHT = 2;

  /** What {@link #add} did with a piece of the body. */
  enum Admitted {
    /** Taken. */
    TAKEN,
    /** Refused: the upload budget is taken by other uploads now (503, retry). */
    BUSY,
    /** Refused: it would never fit the upload budget, even alone (413). */
    NEVER_FITS
  }

  private final UploadHandler owner;
  private final Exchange ex;
  private final long lastModified;
  private final Consumer<Throwable> onFailure;

  /** The chunk being filled: buffers as they came off the socket. */
  private final List<ByteBuf> filling = new ArrayList<>();
  private long fillingBytes;
  /** Bytes held in memory now (the chunk being filled and those being written), all reserved. */
  private long heldBytes;
  /** Offset in the file of the next chunk cut. */
  private long nextOffset;
  /** The chunks cut so far, in order; null while a chunk's write runs, or once deleted. */
  private final List<Manifest.Chunk> chunks = new ArrayList<>();
  private int writing;
  private boolean paused;
  private Runnable onStored;
  private Throwable failure;
  private boolean dropped;

  /**
   * @param startOffset the file offset of the body's first byte
   * @param onFailure   told once, on the event loop, when a chunk cannot be stored (the chunks
   *                    stored so far are deleted by then)
   */
  ChunkStream(UploadHandler owner, Exchange ex, long startOffset, long lastModified,
              Consumer<Throwable> onFailure) {
    this.owner = owner;
    this.ex = ex;
    this.nextOffset = startOffset;
    this.lastModified = lastModified;
    this.onFailure = onFailure;
  }

  /** Takes {@code bytes} (released here either way): cut into chunks as they fill. */
  private Admitted add(ByteBuf bytes) {
    int n = bytes.readableBytes();
    if (failure != null || dropped) {
      bytes.release();
      return Admitted.TAKEN;
    }
    if (!owner.server().uploads().tryReserve(n)) {
      bytes.release();
      return heldBytes + n > owner.server().uploads().limitBytes() ? Admitted.NEVER_FITS : Admitted.BUSY;
    }
    heldBytes += n;
    while (bytes.isReadable()) {
      int take = (int) Math.min(bytes.readableBytes(), CHUNK_BYTES - fillingBytes);
      filling.add(bytes.readRetainedSlice(take));
      fillingBytes += take;
      if (fillingBytes == CHUNK_BYTES) {
        cut();
      }
    }
    bytes.release();
    paused = writing >= WRITES_IN_FLIGHT;
    return Admitted.TAKEN;
  }

  /**
   * A body sink's {@code add} for a body that goes into this stream: takes {@code content} (and
   * releases it); if the upload memory refuses it, runs {@code abort} and answers 503 (taken by
   * other uploads now) or 413 (it would never fit, even alone).
   *
   * @return whether the sink wants more: false once refused, or once an answer was sent
   */
  boolean take(HttpContent content, Runnable abort) {
    Admitted admitted = add(content.content().retain());
    content.release();
    switch (admitted) {
      case TAKEN -> {
        return !ex.responded();
      }
      case BUSY -> {
        abort.run();
        owner.busy(ex);
        return false;
      }
      default -> {
        abort.run();
        ex.closeAfterResponse();
        ex.error(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "upload exceeds the limit of "
            + owner.server().uploads().limitBytes() + " bytes of upload memory");
        return false;
      }
    }
  }

  /** Whether the connection should read nothing until a chunk is stored. */
  boolean paused() {
    return paused;
  }

  /** Whether nothing was cut yet: the whole body so far is in {@link #takeFilling()}. */
  boolean nothingCut() {
    return chunks.isEmpty() && writing == 0;
  }

  /**
   * The buffers of the chunk being filled, handed over (with their budget: {@code release} gives
   * it back) for a body that ended within one chunk and is stored otherwise.
   */
  List<ByteBuf> takeFilling() {
    List<ByteBuf> taken = new ArrayList<>(filling);
    filling.clear();
    fillingBytes = 0;
    return taken;
  }

  /** Gives back budget for bytes taken with {@link #takeFilling()}. */
  void releaseTaken(long bytes) {
    releaseBudget(bytes);
  }

  /**
   * The body is complete: cuts the last chunk (shorter) and runs {@code onStored} on the event
   * loop once every chunk is stored, unless one fails.
   */
  void end(Runnable stored) {
    this.onStored = stored;
    if (fillingBytes > 0) {
      cut();
    }
    maybeStored();
  }

  /** The chunks stored, in file order (complete once {@code onStored} ran). */
  List<Manifest.Chunk> chunks() {
    return List.copyOf(chunks);
  }

  /** Hands the filled chunk to the store: hashed on the blocking pool, then written. */
  private void cut() {
    List<ByteBuf> buffers = takeFilling();
    long size = 0;
    List<ByteBuffer> data = new ArrayList<>();
    for (ByteBuf b : buffers) {
      size += b.readableBytes();
      Collections.addAll(data, b.nioBuffers());
    }
    long chunkSize = size;
    long offset = nextOffset;
    nextOffset += size;
    int index = chunks.size();
    chunks.add(null);
    writing++;
    CompletableFuture<Manifest.Chunk> stored;
    try {
      stored = CompletableFuture.supplyAsync(() -> sha256(data), owner.server().blocking())
          .thenCompose(sha -> owner.server().chunks().write(new NewFile(null, null, lastModified, data))
              .thenApply(fid -> new Manifest.Chunk(fid, offset, (int) chunkSize, sha)));
    } catch (RuntimeException e) {
      stored = CompletableFuture.failedFuture(e);
    }
    stored.whenComplete((chunk, e) -> ex.onEventLoop(() -> {
      buffers.forEach(ByteBuf::release);
      releaseBudget(chunkSize);
      writing--;
      if (e != null) {
        fail(e);
      } else {
        chunks.set(index, chunk);
        if (failure != null || dropped) {
          delete(); // the upload failed meanwhile: this chunk is an orphan too
        }
      }
      if (paused && writing < WRITES_IN_FLIGHT && failure == null && !dropped) {
        paused = false;
        ex.resumeBody();
      }
      maybeStored();
    }, () -> buffers.forEach(ByteBuf::release)));
  }

  private void maybeStored() {
    if (onStored != null && writing == 0 && failure == null && !dropped) {
      Runnable stored = onStored;
      onStored = null;
      stored.run();
    }
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

  private void fail(Throwable e) {
    if (failure != null || dropped) {
      return;
    }
    failure = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
        ? e.getCause() : e;
    releaseFilling();
    delete();
    onFailure.accept(failure);
  }

  /**
   * Drops the body: releases what is held and deletes the chunks stored (and those whose write
   * completes later). Idempotent.
   */
  void drop() {
    if (dropped) {
      return;
    }
    dropped = true;
    releaseFilling();
    delete();
  }

  /** Deletes the chunks stored so far; later completions delete theirs. */
  private void delete() {
    for (int i = 0; i < chunks.size(); i++) {
      Manifest.Chunk c = chunks.get(i);
      if (c != null) {
        Fid fid = c.fid();
        owner.server().chunks().delete(fid);
        chunks.set(i, null);
      }
    }
  }

  private void releaseFilling() {
    long bytes = fillingBytes;
    takeFilling().forEach(ByteBuf::release);
    releaseBudget(bytes);
  }

  private void releaseBudget(long bytes) {
    if (bytes > 0) {
      owner.server().uploads().release(bytes);
      heldBytes -= bytes;
    }
  }
}
