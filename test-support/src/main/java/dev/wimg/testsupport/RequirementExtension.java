package dev.wimg.testsupport;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.lang.reflect.AnnotatedElement;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.junit.platform.commons.support.AnnotationSupport;
import org.opentest4j.TestAbortedException;

/**
 * Behind {@link RequiresRoot} and {@link RequiresLibvips}.
 *
 * <p>Outside CI an unmet requirement disables the test with its reason, before any of its
 * lifecycle methods run (so a set-up that mounts a file system is not attempted), and prints the
 * reason on the build's console. Under {@code CI=true} the test is never disabled: the first
 * callback before it (before-all for a class-level annotation, before-each otherwise) fails it
 * with the reason, and an abort from inside the test or its lifecycle methods (an assumption) is
 * turned into a failure.
 */
final class RequirementExtension implements ExecutionCondition, BeforeAllCallback, BeforeEachCallback,
    TestExecutionExceptionHandler, LifecycleMethodExecutionExceptionHandler {

  /**
   * The test JVM's own standard error, below {@link System#err}: Maven Surefire captures what
   * tests print (into files, as this build configures it), but copies the forked JVM's native
   * standard error to the build's console, where a skip and its reason must be seen, since
   * Surefire's summary counts skipped tests without saying why.
   */
  private static final PrintStream NATIVE_STDERR =
      new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    Optional<String> reason = unmet(context);
    if (reason.isEmpty()) {
      return ConditionEvaluationResult.enabled("what the test needs is here");
    }
    if (Requirement.underCi()) {
      return ConditionEvaluationResult.enabled("under CI; fails before it starts: " + reason.get());
    }
    String where = context.getTestClass().map(Class::getName).orElse("?")
        + context.getTestMethod().map(m -> "." + m.getName()).orElse("");
    NATIVE_STDERR.println("[test skipped] " + where + ": " + reason.get());
    return ConditionEvaluationResult.disabled(reason.get());
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    failUnderCiIfUnmet(context);
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    failUnderCiIfUnmet(context);
  }

  private static void failUnderCiIfUnmet(ExtensionContext context) {
    Optional<String> reason = unmet(context);
    if (reason.isPresent() && Requirement.underCi()) {
      throw Requirement.notRunUnderCi(reason.get());
    }
  }

  /** What the test (or container) of this context needs and this machine lacks, joined. */
  private static Optional<String> unmet(ExtensionContext context) {
    List<AnnotatedElement> elements = new ArrayList<>();
    context.getTestClass().ifPresent(elements::add);
    context.getTestMethod().ifPresent(elements::add);
    List<String> reasons = new ArrayList<>();
    for (AnnotatedElement e : elements) {
      AnnotationSupport.findAnnotation(e, RequiresRoot.class).ifPresent(root ->
          Requirement.ROOT.unmet().ifPresent(lack -> reasons.add("needs root to " + root.value() + ": " + lack)));
      if (AnnotationSupport.isAnnotated(e, RequiresLibvips.class)) {
        Requirement.LIBVIPS.reasonNotRun().ifPresent(reasons::add);
      }
    }
    return reasons.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", reasons.stream().distinct().toList()));
  }

  @Override
  public void handleTestExecutionException(ExtensionContext context, Throwable thrown) throws Throwable {
    throw failUnderCiIfAborted(thrown);
  }

  @Override
  public void handleBeforeAllMethodExecutionException(ExtensionContext context, Throwable thrown) throws Throwable {
    throw failUnderCiIfAborted(thrown);
  }

  @Override
  public void handleBeforeEachMethodExecutionException(ExtensionContext context, Throwable thrown) throws Throwable {
    throw failUnderCiIfAborted(thrown);
  }

  private static Throwable failUnderCiIfAborted(Throwable thrown) {
    if (thrown instanceof TestAbortedException aborted && Requirement.underCi()) {
      var failure = Requirement.notRunUnderCi("it aborted: " + aborted.getMessage());
      failure.initCause(aborted);
      return failure;
    }
    return thrown;
  }
}
