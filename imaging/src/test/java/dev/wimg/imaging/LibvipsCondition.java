package dev.wimg.imaging;

import dev.wimg.imaging.internal.Vips;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** See {@link EnabledIfLibvips}. */
final class LibvipsCondition implements ExecutionCondition {

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    try {
      return ConditionEvaluationResult.enabled("libvips " + Vips.load().version() + " is loaded");
    } catch (UnsupportedOperationException e) {
      return ConditionEvaluationResult.disabled("needs libvips, which is missing here ("
          + e.getMessage() + "): apt-get install libvips42");
    }
  }
}
