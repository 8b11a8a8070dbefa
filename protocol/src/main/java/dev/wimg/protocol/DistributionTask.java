package dev.wimg.protocol;

import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * A distribution task's definition: one large file to be copied to target nodes, which fetch its
 * pieces (the file's chunks) from each other and, for pieces no target holds yet, from the file's
 * own group (docs/DISTRIBUTION.md). A tracker makes it at {@code POST /tasks} and hands it to each
 * target in its heartbeat answer; a target keeps it on its disk, so the task outlives trackers and
 * restarts, and sends it back to a tracker that no longer knows the task. JSON with these names:
 *
 * <pre>
 * field     JSON type  meaning
 * version   number     {@value #VERSION}; a reader refuses others, naming the range it reads
 * id        string     32 lowercase hex digits (16 random bytes)
 * fid       string     the file's fid, its manifest's needle
 * created   number     epoch milliseconds
 * file      object     what GET /&lt;fid&gt; answers at the source: size, chunkSize, name (or null),
 *                      mime (or null), lastModified (epoch ms), checksum (the manifest needle's
 *                      CRC32C, unsigned: the ETag)
 * pieces    array      the file's chunks in file order: {fid, offset, size, sha256 (64 hex)}
 * targets   array      node ids that get a pinned copy
 * sources   array      {group, urls}: readers of each group that holds pieces, at creation (a
 *                      target's fallback when no tracker answers)
 * </pre>
 *
 * <p>Version history: 1, 5 December 2026: the fields above.
 */
public record DistributionTask(int version, String id, String fid, long created, FileInfo file,
                               List<Piece> pieces, List<String> targets, List<Source> sources) {

  /** The version this build writes and reads. */
  public static final int VERSION = 1;
  /** Most pieces one task may have: 64 GiB of 8 MiB chunks. */
  public static final int MAX_PIECES = 8192;
  /** Most targets of one task. */
  public static final int MAX_TARGETS = 4096;

  public DistributionTask {
    if (version != VERSION) {
      throw new IllegalArgumentException("distribution task version " + version
          + " is not read here; this build reads " + VERSION + ".." + VERSION);
    }
    checkId(id);
    Fid.parse(Objects.requireNonNull(fid, "fid"));
    Objects.requireNonNull(file, "file");
    pieces = List.copyOf(Objects.requireNonNull(pieces, "pieces"));
    targets = List.copyOf(Objects.requireNonNull(targets, "targets"));
    sources = List.copyOf(Objects.requireNonNull(sources, "sources"));
    if (pieces.isEmpty() || pieces.size() > MAX_PIECES) {
      throw new IllegalArgumentException("a task has 1.." + MAX_PIECES + " pieces, got " + pieces.size());
    }
    if (targets.size() > MAX_TARGETS) {
      throw new IllegalArgumentException("a task has at most " + MAX_TARGETS + " targets, got " + targets.size());
    }
    long at = 0;
    for (Piece p : pieces) {
      if (p.offset() != at) {
        throw new IllegalArgumentException("piece " + p.fid() + " starts at " + p.offset() + ", not " + at);
      }
      if (p.size() > file.chunkSize()) {
        throw new IllegalArgumentException("piece " + p.fid() + " is larger than the chunk size " + file.chunkSize());
      }
      at += p.size();
    }
    if (at != file.size()) {
      throw new IllegalArgumentException("the pieces end at " + at + ", the file is " + file.size() + " bytes");
    }
  }

  /** Refuses anything but 32 lowercase hex digits. */
  public static String checkId(String id) {
    if (id == null || id.length() != 32 || !id.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      throw new IllegalArgumentException("a task id is 32 lowercase hex digits, got \"" + id + "\"");
    }
    return id;
  }

  /** The file as its source serves it. */
  public record FileInfo(long size, int chunkSize, String name, String mime, long lastModified, long checksum) {
    public FileInfo {
      if (size <= 0 || chunkSize <= 0) {
        throw new IllegalArgumentException("size and chunkSize must be > 0");
      }
      if (checksum < 0 || checksum > 0xFFFF_FFFFL) {
        throw new IllegalArgumentException("checksum is an unsigned 32-bit value, got " + checksum);
      }
    }
  }

  /** One piece: a chunk of the file, fetched by {@code GET /<fid>} and checked by its SHA-256. */
  public record Piece(String fid, long offset, int size, String sha256) {
    public Piece {
      Fid.parse(Objects.requireNonNull(fid, "piece fid"));
      if (offset < 0 || size <= 0) {
        throw new IllegalArgumentException("piece " + fid + ": offset must be >= 0 and size > 0");
      }
      if (sha256 == null || sha256.length() != 64) {
        throw new IllegalArgumentException("piece " + fid + ": sha256 must be 64 hex digits");
      }
      HexFormat.of().parseHex(sha256);
    }

    /** The SHA-256 as bytes. */
    public byte[] digest() {
      return HexFormat.of().parseHex(sha256);
    }
  }

  /** Readers of one group that holds pieces, at the task's creation. */
  public record Source(int group, List<String> urls) {
    public Source {
      urls = List.copyOf(Objects.requireNonNull(urls, "urls"));
    }
  }
}
