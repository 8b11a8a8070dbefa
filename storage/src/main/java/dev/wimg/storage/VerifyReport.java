package dev.wimg.storage;

import java.util.List;

/**
 * The outcome of {@link Store#verify}: counts and every problem found, each naming the volume file,
 * offset and the values that disagree.
 *
 * <p>A store may run beside the check. When it shrinks or replaces a file while the check reads it
 * (it seals a full volume by cutting its preallocated tail, a vacuum swaps in a compacted copy), what
 * the check saw of that volume cannot be trusted either way: the volume is then named in {@link
 * #changed} and its findings are left out of {@link #problems}. That is not damage; checking again
 * (or with the store stopped) checks it.
 *
 * @param volumes        volume files found
 * @param needlesChecked records read (needles and tombstones)
 * @param liveNeedles    needles not deleted
 * @param deletedNeedles needles deleted by a tombstone still in their volume
 * @param problems       one line per problem: file, offset, what disagrees
 * @param changed        one line per file that changed while being checked, saying how
 */
public record VerifyReport(int volumes, long needlesChecked, long liveNeedles, long deletedNeedles,
                           List<String> problems, List<String> changed) {

  /** Every volume was checked to its end and no problem was found. */
  public boolean ok() {
    return problems.isEmpty() && changed.isEmpty();
  }
}
