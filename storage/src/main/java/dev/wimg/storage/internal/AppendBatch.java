package dev.wimg.storage.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The records one write batch appends to one volume: buffers gathered for the {@code .dat} and
 * entries for the {@code .idx}. Writer thread only.
 *
 * <p>Small pieces (headers, meta, small payloads, trailers) are copied into the {@link BatchStager}'s
 * direct staging buffer; large direct payloads are gathered as they are. {@link #flush} writes what
 * is gathered with one gathering write at the volume's end and may run several times per batch
 * when the staging buffer fills up; nothing is acknowledged before the batch's fsync anyway.
 */
final class AppendBatch {

  final Volume volume;
  /** Volume end before this batch: on failure the volume's logical end stays here. */
  final long start;
  /** Offset after the last record staged so far. */
  long end;
  /** Offset up to which gathered buffers have been written. */
  long written;
  final List<ByteBuffer> gathered = new ArrayList<>();
  ByteBuffer idxEntries = ByteBuffer.allocate(64 * IndexLog.ENTRY_SIZE).order(ByteOrder.LITTLE_ENDIAN);
  final CRC32C idxCrc = new CRC32C();
  /** The failure that stopped this batch, or null. */
  IOException failure;

  AppendBatch(Volume volume) {
    this.volume = volume;
    this.start = volume.end;
    this.end = volume.end;
    this.written = volume.end;
  }

  void addIndexEntry(long key, long offset, long lengthBytes, boolean tombstone) {
    if (idxEntries.remaining() < IndexLog.ENTRY_SIZE) {
      ByteBuffer bigger = ByteBuffer.allocate(idxEntries.capacity() * 2).order(ByteOrder.LITTLE_ENDIAN);
      idxEntries = bigger.put(idxEntries.flip());
    }
    IndexLog.putEntry(idxEntries, idxCrc, key, offset >>> NeedleCodec.ALIGNMENT_SHIFT,
        lengthBytes >>> NeedleCodec.ALIGNMENT_SHIFT, tombstone);
  }

  /** Writes the gathered buffers at {@link #written}. */
  void flush() throws IOException {
    if (gathered.isEmpty()) {
      return;
    }
    FileChannel ch = volume.generation().dat;
    ByteBuffer[] srcs = gathered.toArray(ByteBuffer[]::new);
    long total = 0;
    for (ByteBuffer b : srcs) {
      total += b.remaining();
    }
    ch.position(written);
    long done = 0;
    int first = 0;
    while (done < total) {
      long n = ch.write(srcs, first, srcs.length - first);
      done += n;
      written += n; // as it goes: if a later write fails, rollback zeroes what this one wrote
      while (first < srcs.length && !srcs[first].hasRemaining()) {
        first++;
      }
    }
    gathered.clear();
  }
}
