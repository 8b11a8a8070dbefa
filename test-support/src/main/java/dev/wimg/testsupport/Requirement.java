package dev.wimg.testsupport;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.opentest4j.AssertionFailedError;

/**
 * Something a test needs from the machine that a developer's laptop may lack. Where it is missing
 * the test is skipped with the reason; under {@code CI=true}, where the machine is set up to have
 * everything (see {@code .ci/run}), the test fails instead, so that a test CI meant to run can
 * never pass by not running.
 *
 * <p>Use {@link RequiresRoot} or {@link RequiresLibvips} on a test class or method, or
 * {@link #require()} inside a test that needs it for some of its cases only.
 */
public enum Requirement {

  /** The JVM runs as uid 0: loop devices, {@code mount}, {@code mknod}. */
  ROOT("needs root") {
    @Override
    public Optional<String> unmet() {
      long uid = new com.sun.security.auth.module.UnixSystem().getUid();
      return uid == 0 ? Optional.empty()
          : Optional.of("this test JVM runs as uid " + uid + " (" + System.getProperty("user.name") + ")");
    }
  },

  /**
   * libvips can be loaded: the library {@code dev.wimg.imaging.internal.Vips} binds, named by the
   * same system property {@value #LIBVIPS_PROPERTY} with the same default {@value #LIBVIPS_LIBRARY}.
   * Only its presence is checked here; a libvips that loads but is unusable (too old, broken)
   * fails the tests rather than skip them.
   */
  LIBVIPS("needs libvips") {
    @Override
    public Optional<String> unmet() {
      String library = System.getProperty(LIBVIPS_PROPERTY, LIBVIPS_LIBRARY);
      try {
        SymbolLookup.libraryLookup(library, Arena.global());
        return Optional.empty();
      } catch (IllegalArgumentException e) {
        return Optional.of(library + " cannot be loaded here (" + e.getMessage()
            + "); install it with: apt-get install libvips42");
      }
    }
  },

  /** Debian's Python 3 with tuspy, a real tus client ({@value #SYSTEM_PYTHON}). */
  TUSPY("needs tuspy") {
    @Override
    public Optional<String> unmet() {
      try {
        Process p = new ProcessBuilder(SYSTEM_PYTHON, "-c", "import tusclient").redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (p.waitFor() == 0) {
          return Optional.empty();
        }
        return Optional.of(SYSTEM_PYTHON + " cannot import tusclient; install it with: apt-get install python3-tuspy");
      } catch (java.io.IOException e) {
        return Optional.of(SYSTEM_PYTHON + " cannot be run (" + e.getMessage()
            + "); install it with: apt-get install python3-tuspy");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Optional.of("interrupted");
      }
    }
  },

  /** aria2's {@value #ARIA2C}, a real multi-connection HTTP download client. */
  ARIA2("needs aria2c") {
    @Override
    public Optional<String> unmet() {
      try {
        Process p = new ProcessBuilder(ARIA2C, "--version").redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (p.waitFor() == 0) {
          return Optional.empty();
        }
        return Optional.of(ARIA2C + " --version exited " + p.exitValue() + "; install it with: apt-get install aria2");
      } catch (java.io.IOException e) {
        return Optional.of(ARIA2C + " cannot be run (" + e.getMessage() + "); install it with: apt-get install aria2");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Optional.of("interrupted");
      }
    }
  };

  /** The Python that Debian's python3-* packages are installed for. */
  public static final String SYSTEM_PYTHON = "/usr/bin/python3";

  /** aria2's command-line client, looked up on the {@code PATH}. */
  public static final String ARIA2C = "aria2c";

  /** The library file libvips is loaded from unless {@value #LIBVIPS_PROPERTY} names another. */
  public static final String LIBVIPS_LIBRARY = "libvips.so.42";
  /** System property naming the libvips library file. */
  public static final String LIBVIPS_PROPERTY = "wimg.libvips";
  /** Environment variable that CI sets to {@code true}: nothing may be skipped then. */
  public static final String CI_VARIABLE = "CI";

  private final String need;

  Requirement(String need) {
    this.need = need;
  }

  /** Empty when this machine meets the requirement, else what it lacks (without the need itself). */
  public abstract Optional<String> unmet();

  /** Why a test that needs this is not run here, or empty when it can run. */
  public Optional<String> reasonNotRun() {
    return unmet().map(lack -> need + ": " + lack);
  }

  /** Whether this build runs under CI ({@code CI=true}), where every test must run. */
  public static boolean underCi() {
    return "true".equalsIgnoreCase(System.getenv(CI_VARIABLE));
  }

  /**
   * Returns when the requirement is met. Otherwise aborts the running test with the reason
   * (reported as skipped), or under {@code CI=true} fails it.
   *
   * @throws org.opentest4j.TestAbortedException when unmet outside CI
   * @throws AssertionFailedError when unmet under CI
   */
  public void require() {
    Optional<String> reason = reasonNotRun();
    if (reason.isEmpty()) {
      return;
    }
    if (underCi()) {
      throw notRunUnderCi(reason.get());
    }
    Assumptions.abort(reason.get());
  }

  static AssertionFailedError notRunUnderCi(String reason) {
    return new AssertionFailedError(CI_VARIABLE + "=true, where every test must run, but this one did not: "
        + reason);
  }
}
