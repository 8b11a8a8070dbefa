package dev.wimg.storage;

import java.util.List;

/**
 * The outcome of {@link Store#verify}: counts and every problem found, each naming the volume file,
 * offset and the values that disagree.
 */
public record VerifyReport(int volumes, long needlesChecked, long liveNeedles, long deletedNeedles,
                           List<String> problems) {

  public boolean ok() {
    return problems.isEmpty();
  }
}
