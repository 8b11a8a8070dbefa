package dev.wimg.imaging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.testsupport.RequiresLibvips;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterProperty;

/**
 * No source size and no URL aborts the process: random source sizes (1 to 10^7 on each side,
 * extreme ratios) through every mode, gravity, crop, rotate and output format, on the real
 * libvips engine.
 *
 * <p>libvips is C and an internal assertion aborts the whole process ({@code SIGABRT}), which
 * would take the test JVM with it: surefire 3.5 then reports "Tests run: 0", that its fork
 * "terminated without properly saying goodbye" (exit code 134) and the crashed class, but not the
 * picture or URL, and the tests left in that fork never run. So the transforms run in a child JVM
 * ({@link TransformWorkerMain}); a child that dies fails the try with the source size, the query
 * and the child's last words, and a new child serves the next try (so jqwik can shrink).
 */
@RequiresLibvips
class HostileGeometryTest {

  /** Longest a single answer may take before the child is presumed hung, seconds: a safety net. */
  private static final long ANSWER_TIMEOUT_SECONDS = 300;

  /** Started on first use; jqwik makes one instance of this class per property. */
  private final Worker worker = new Worker();

  @AfterProperty
  void stopWorker() {
    worker.stop();
  }

  @Example
  void filledTallOnePixelColumnIsAnswerNotAnAbort() {
    // 1 x 10,000,000 filled to 300x300: libvips scaled it to 300 x 3e9 and failed an assertion.
    String answer = worker.ask(1, 10_000_000, "w=300&h=300&mode=fill&format=webp");
    assertThat(answer).startsWith("refused 422 ");
  }

  @Example
  void filledColumnWhoseScaledSidePassesTwoToThe31IsAnswerNotAnAbort() {
    String answer = worker.ask(1, 262_144, "w=8192&h=8192&mode=fill");
    assertThat(answer).startsWith("refused ");
  }

  @Property(tries = 100)
  void noSourceSizeAndNoUrlAbortsTheProcess(@ForAll("sides") int width, @ForAll("sides") int height,
                                            @ForAll("queries") String query) {
    String answer = worker.ask(width, height, query);
    // The documented budget answer (503) is also an answer, not an abort: a large legal source on
    // a busy machine can run past the 5 s budget.
    assertThat(answer).as("%dx%d ?%s", width, height, query)
        .matches("ok .*|refused (400|422) .*|refused 503 the transform ran past its budget of \\d+ ms and was stopped");
    if (answer.startsWith("ok ")) {
      // "ok JPEG 300x2 decodes as JPEG 300x2": the output holds the size it claims.
      String[] parts = answer.split(" ");
      assertThat(parts[2]).as("%dx%d ?%s: %s", width, height, query, answer).isEqualTo(parts[6]);
    }
  }

  /** Sides spread evenly on a log scale from 1 to 10^7, with the edges and powers of two. */
  @Provide
  Arbitrary<Integer> sides() {
    return Arbitraries.frequencyOf(
        Tuple.of(6, Arbitraries.integers().between(0, 7_000)
            .map(e -> (int) Math.min(10_000_000, Math.round(Math.pow(10, e / 1000.0))))),
        Tuple.of(1, Arbitraries.of(1, 2, 3, 16_383, 16_384, 65_535, 65_536, 262_144, 10_000_000)));
  }

  @Provide
  Arbitrary<String> queries() {
    Arbitrary<Integer> box = Arbitraries.frequencyOf(
        Tuple.of(4, Arbitraries.integers().between(0, 3_913)
            .map(e -> (int) Math.round(Math.pow(10, e / 1000.0)))),
        Tuple.of(1, Arbitraries.of(1, 2, 8192)));
    Arbitrary<String> mode = Arbitraries.of("fit", "fill", "stretch", "pad");
    Arbitrary<String> gravity = Arbitraries.of("center", "north", "south", "east", "west", "smart");
    Arbitrary<String> crop = Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.just("")),
        Tuple.of(1, Combinators.combine(coordinate(), coordinate(), extent(), extent())
            .as((x, y, w, h) -> "&crop=" + x + "," + y + "," + w + "," + h)));
    Arbitrary<String> rotate = Arbitraries.of("", "&rotate=90", "&rotate=180", "&rotate=270");
    Arbitrary<String> mirror = Arbitraries.of("", "&flip", "&flop");
    Arbitrary<String> format = Arbitraries.of("jpeg", "png", "webp", "avif");
    Arbitrary<String> blur = Arbitraries.of("", "", "", "&blur=3");
    return Combinators.combine(box, box, mode, gravity, crop, rotate, mirror, format)
        .as((w, h, m, g, c, r, f, fmt) -> {
          StringBuilder q = new StringBuilder();
          boolean oneSide = m.equals("fit") && w % 3 == 0;
          q.append(oneSide && h % 2 == 0 ? "h=" + h : "w=" + w);
          if (!oneSide) {
            q.append("&h=").append(h);
          }
          q.append("&mode=").append(m);
          if (m.equals("fill") || (m.equals("pad") && !g.equals("smart"))) {
            q.append("&gravity=").append(g);
          }
          return q.append(c).append(r).append(f).append("&format=").append(fmt).toString();
        })
        .flatMap(q -> blur.map(b -> q + b));
  }

  private static Arbitrary<Integer> coordinate() {
    return Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.just(0)),
        Tuple.of(1, Arbitraries.integers().between(0, 7_000)
            .map(e -> (int) Math.round(Math.pow(10, e / 1000.0)))));
  }

  private static Arbitrary<Integer> extent() {
    return Arbitraries.integers().between(0, 7_000)
        .map(e -> (int) Math.round(Math.pow(10, e / 1000.0)));
  }

  /** The child JVM running {@link TransformWorkerMain}, restarted after it dies. */
  static final class Worker {
    private Process process;
    private Writer requests;
    private BufferedReader answers;
    private Path log;

    /**
     * The child's answer to one transform.
     *
     * @throws AssertionError when the child died on it, with its exit status and last output
     */
    synchronized String ask(int width, int height, String query) {
      try {
        if (process == null || !process.isAlive()) {
          start();
        }
        requests.write(width + " " + height + " " + query + "\n");
        requests.flush();
        String answer = readAnswer();
        if (answer == null) {
          process.waitFor(30, TimeUnit.SECONDS);
          String lastWords = tail(Files.readString(log));
          int exit = process.isAlive() ? -1 : process.exitValue();
          process = null;
          throw new AssertionError("the transform process died (exit status " + exit
              + (exit == 134 ? ", SIGABRT" : "") + ") on a " + width + "x" + height
              + " source with ?" + query + "; its stderr ends with: " + lastWords);
        }
        return answer;
      } catch (IOException e) {
        process = null;
        throw new AssertionError("the transform process failed on " + width + "x" + height
            + " ?" + query + ": " + e, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }

    private String readAnswer() throws IOException, InterruptedException {
      var pending = java.util.concurrent.CompletableFuture.supplyAsync(this::nextAnswer);
      try {
        return pending.get(ANSWER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        return null;
      } catch (java.util.concurrent.TimeoutException e) {
        process.destroyForcibly();
        process = null;
        throw new AssertionError("no answer within " + ANSWER_TIMEOUT_SECONDS + " s");
      }
    }

    private void start() throws IOException {
      log = Files.createTempFile("wimg-transform-worker", ".log");
      List<String> command = new ArrayList<>(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "--enable-native-access=ALL-UNNAMED", "-Xmx256m",
          "-cp", System.getProperty("java.class.path"), TransformWorkerMain.class.getName()));
      process = new ProcessBuilder(command).redirectError(log.toFile()).start();
      requests = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      answers = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      String ready = nextAnswer();
      if (ready == null || !ready.startsWith("ready ")) {
        throw new IOException("the transform process did not start: " + ready + " "
            + tail(Files.readString(log)));
      }
    }

    /** The next protocol line without its mark, skipping log lines; null at the end. */
    private String nextAnswer() {
      try {
        for (String line; (line = answers.readLine()) != null; ) {
          if (line.startsWith(TransformWorkerMain.ANSWER)) {
            return line.substring(TransformWorkerMain.ANSWER.length());
          }
        }
        return null;
      } catch (IOException e) {
        return null;
      }
    }

    private static String tail(String text) {
      return text.length() > 2000 ? "..." + text.substring(text.length() - 2000) : text;
    }

    synchronized void stop() {
      if (process != null) {
        process.destroy();
        process = null;
      }
      if (log != null) {
        try {
          Files.deleteIfExists(log);
        } catch (IOException ignored) {
          // a temporary file left behind is harmless
        }
      }
    }
  }
}
