package dev.wimg.protocol;

import java.util.Base64;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;

/**
 * What a target of a distribution task tells a tracker, at most a second apart and at once after
 * each verified piece: the body of {@code POST /tasks/<id>/report} (cluster key), answered by a
 * {@link PieceHandout}. JSON with these names:
 *
 * <pre>
 * field        JSON type       meaning
 * version      number          {@value #VERSION}
 * task, node   string          the task's and the reporting node's ids
 * url          string          where the node serves the pieces it holds
 * state        string          {@link TargetState#token()}: accepted, fetching, done or failed
 * reason       string or null  why it failed
 * have         string          base64 of the verified pieces' bitfield: bit i (of byte i/8, least
 *                              significant first) is piece i
 * fetching     array           pieces being fetched now: {piece, from} (from: a URL)
 * bytes        number          piece bytes received and verified
 * sourceBytes  number          of those, bytes fetched from the file's own group (the source)
 * rate         number          bytes/s received over the last seconds
 * holderRates  array or absent the holders it fetched pieces from lately and how fast: {url, rate}
 *                              (bytes/s of a piece from that URL, averaged over its last pieces;
 *                              at most {@value #MAX_HOLDER_RATES})
 * definition   object or null  the task's {@link DistributionTask}, sent when the tracker answered
 *                              409 (it does not know the task: restarted, or another tracker)
 * </pre>
 *
 * <p>Version history: 1, 5 December 2026: the fields above ({@code holderRates} added within
 * version 1 the same day: a report without it names no measured holder).
 */
public record TaskReport(int version, String task, String node, String url, String state, String reason,
                         String have, List<Fetch> fetching, long bytes, long sourceBytes, long rate,
                         List<HolderRate> holderRates, DistributionTask definition) {

  /** The version this build writes and reads. */
  public static final int VERSION = 1;
  /** Most holders a report names in {@link #holderRates}. */
  public static final int MAX_HOLDER_RATES = 64;

  public TaskReport {
    if (version != VERSION) {
      throw new IllegalArgumentException("task report version " + version + " is not read here; this build reads "
          + VERSION + ".." + VERSION);
    }
    DistributionTask.checkId(task);
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(url, "url");
    TargetState s = TargetState.parse(state);
    if (s == TargetState.OFFERED || s == TargetState.DOWN) {
      throw new IllegalArgumentException("a node cannot report itself " + state);
    }
    Objects.requireNonNull(have, "have");
    if (have.length() > (DistributionTask.MAX_PIECES / 8 + 2) * 4 / 3 + 4) {
      throw new IllegalArgumentException("have is longer than a bitfield of " + DistributionTask.MAX_PIECES + " pieces");
    }
    Base64.getDecoder().decode(have); // refused here, not where it is read
    fetching = fetching == null ? List.of() : List.copyOf(fetching);
    if (fetching.size() > DistributionTask.MAX_PIECES) {
      throw new IllegalArgumentException("fetching lists more than " + DistributionTask.MAX_PIECES + " pieces");
    }
    if (bytes < 0 || sourceBytes < 0 || rate < 0) {
      throw new IllegalArgumentException("bytes, sourceBytes and rate must be >= 0");
    }
    holderRates = holderRates == null ? List.of() : List.copyOf(holderRates);
    if (holderRates.size() > MAX_HOLDER_RATES) {
      throw new IllegalArgumentException("holderRates lists more than " + MAX_HOLDER_RATES + " holders");
    }
  }

  /** How fast pieces came from one holder lately. */
  public record HolderRate(String url, long rate) {
    public HolderRate {
      Objects.requireNonNull(url, "url");
      if (rate < 0) {
        throw new IllegalArgumentException("a holder's rate must be >= 0");
      }
    }
  }

  /** A piece being fetched, and from where. */
  public record Fetch(int piece, String from) {}

  /** The verified pieces. */
  public BitSet haveBits() {
    return BitSet.valueOf(Base64.getDecoder().decode(have));
  }

  /** {@code bits} as {@link #have} carries them. */
  public static String encodeHave(BitSet bits) {
    return Base64.getEncoder().encodeToString(bits.toByteArray());
  }
}
