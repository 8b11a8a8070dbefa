package dev.wimg.protocol;

import java.util.List;
import java.util.Objects;

/**
 * A distribution task as a tracker sees it: the body of {@code GET /tasks/<id>} (and each element
 * of {@code GET /tasks}'s {@code tasks}). JSON with these names:
 *
 * <pre>
 * field         JSON type  meaning
 * version       number     {@value #VERSION}
 * id, fid       string     the task and its file
 * size          number     the file's bytes
 * pieces        number     its pieces
 * created       number     epoch milliseconds
 * state         string     running; done once every target is; failed once every target has ended
 *                          and one failed; cancelled once DELETE /tasks/&lt;id&gt; was asked
 * sourceBytes   number     piece bytes the targets fetched from the file's own group
 * sourceCopies  number     sourceBytes / size: how many copies the source sent
 * targets       array      one per target (below)
 * </pre>
 *
 * A target: {@code node}, {@code url}, {@code zone}, {@code state} ({@link TargetState#token()}),
 * {@code pieces} (verified), {@code bytes} (received), {@code sourceBytes}, {@code rate} (bytes/s),
 * {@code silentMillis} (since its last report), {@code reason} (why it failed, or null).
 *
 * <p>Version history: 1, 5 December 2026: the fields above. Readers ignore fields they do not
 * know, so a field may be added within a version.
 */
public record TaskStatus(int version, String id, String fid, long size, int pieces, long created, String state,
                         long sourceBytes, double sourceCopies, List<Target> targets) {

  /** The version this build writes. */
  public static final int VERSION = 1;

  public TaskStatus {
    targets = List.copyOf(Objects.requireNonNull(targets, "targets"));
  }

  /** One target. */
  public record Target(String node, String url, String zone, String state, int pieces, long bytes,
                       long sourceBytes, long rate, long silentMillis, String reason) {}

  /** Whether the task has ended: every target is done or failed. */
  public boolean ended() {
    return !state.equals("running");
  }
}
