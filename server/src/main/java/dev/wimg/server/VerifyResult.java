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
 */
public record VerifyResult(int volumes, long needlesChecked, long liveNeedles, long deletedNeedles,
                           List<String> problems) {

  public VerifyResult {
    problems = List.copyOf(Objects.requireNonNull(problems, "problems"));
  }

  /** True when no problem was found. */
  public boolean ok() {
    return problems.isEmpty();
  }
}
