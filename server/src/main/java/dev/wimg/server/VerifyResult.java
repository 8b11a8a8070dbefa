package dev.wimg.server;

import java.util.List;
import java.util.Objects;

/**
 * What {@link WimgServer#verify} found in a data folder.
 *
 * @param volumes        volume files checked
 * @param needlesChecked needles read and checked, live and deleted
 * @param liveNeedles    needles an index entry points at
 * @param deletedNeedles needles marked deleted
 * @param problems       each problem found, naming the volume file, the offset and the values that
 *                       disagree; empty when the folder is sound
 * @param changed        one line per file that a running server changed while it was being
 *                       checked (sealed, vacuumed); its findings are left out of {@code problems}:
 *                       not damage, check again
 */
public record VerifyResult(int volumes, long needlesChecked, long liveNeedles, long deletedNeedles,
                           List<String> problems, List<String> changed) {

  public VerifyResult {
    problems = List.copyOf(Objects.requireNonNull(problems, "problems"));
    changed = List.copyOf(Objects.requireNonNull(changed, "changed"));
  }

  /** True when no problem was found and no file changed while being checked. */
  public boolean ok() {
    return problems.isEmpty() && changed.isEmpty();
  }
}
