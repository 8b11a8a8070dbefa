package dev.wimg.protocol;

import java.util.List;
import java.util.Objects;

/**
 * A tracker's answer to a {@link TaskReport}: which missing pieces the node should fetch now, and
 * from where. JSON with these names:
 *
 * <pre>
 * field    JSON type  meaning
 * version  number     {@value #VERSION}
 * next     number     milliseconds until the node's next report (at the latest)
 * pieces   array      {piece, from, source}: a piece index, URLs to fetch it from in order of
 *                     preference, and whether they are the source (the file's own group): a source
 *                     piece is leased to this node alone, so the source sends each piece about once
 * cancel   boolean    the task was cancelled: drop the pinned copy and stop
 * </pre>
 *
 * <p>Version history: 1, 5 December 2026: the fields above.
 */
public record PieceHandout(int version, long next, List<Assignment> pieces, boolean cancel) {

  /** The version this build writes and reads. */
  public static final int VERSION = 1;

  public PieceHandout {
    if (version != VERSION) {
      throw new IllegalArgumentException("piece handout version " + version + " is not read here; this build reads "
          + VERSION + ".." + VERSION);
    }
    pieces = pieces == null ? List.of() : List.copyOf(pieces);
  }

  /** One piece to fetch. */
  public record Assignment(int piece, List<String> from, boolean source) {
    public Assignment {
      from = List.copyOf(Objects.requireNonNull(from, "from"));
    }
  }
}
