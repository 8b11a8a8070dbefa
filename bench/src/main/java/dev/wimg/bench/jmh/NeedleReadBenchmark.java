package dev.wimg.bench.jmh;

import dev.wimg.protocol.Fid;
import dev.wimg.storage.FsyncPolicy;
import dev.wimg.storage.NewFile;
import dev.wimg.storage.Store;
import dev.wimg.storage.StoreConfig;
import dev.wimg.storage.StoredFile;
import dev.wimg.storage.WriteResult;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Reads of stored needles through {@link Store#read}: index lookup, header and cookie check, and
 * CRC32C of the whole record over the memory-mapped volume — the work behind every GET.
 *
 * <p>Setup writes {@code needles} needles of {@code dataBytes} random bytes each (with a name and a
 * mime, as uploads have) to a fresh store in a temporary folder ({@code java.io.tmpdir}, fsync
 * never) and deletes it at the end. Each benchmark thread reads fids in the order of a
 * {@link ZipfKeys} table (exponent 1, hot keys scrambled over the volume), starting at its own
 * offset, so that some needles are read often and most rarely, as with real pictures. All pages
 * are in the page cache: this measures CPU, not the disk.
 *
 * <ul>
 *   <li>{@code read}: one verified read; its cost grows with {@code dataBytes} (the CRC).
 *   <li>{@code isResident}: the check an event loop makes before reading inline.
 * </ul>
 *
 * <p>Run (from the repository root, after {@code ./mvnw -q -B package -pl bench -am -DskipTests}):
 * <pre>
 * bench/jmh.sh NeedleReadBenchmark                     # all parameters, 1 thread
 * bench/jmh.sh NeedleReadBenchmark -t 2 -p dataBytes=20480 -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class NeedleReadBenchmark {

  /** Distinct needles in the store. */
  @Param({"100000"})
  int needles;

  /** Payload bytes of every needle: 1 KiB, and 20 KiB, about the corpus median picture. */
  @Param({"1024", "20480"})
  int dataBytes;

  private Path dir;
  private Store store;
  private Fid[] fids;
  private int[] keys;

  /** Per-thread position in the shared key table. */
  @State(Scope.Thread)
  public static class Cursor {
    int next;

    @Setup(Level.Trial)
    public void start() {
      next = (int) (Thread.currentThread().threadId() * 7919) & (ZipfKeys.TABLE_SIZE - 1);
    }
  }

  @Setup(Level.Trial)
  public void fill() throws IOException {
    dir = Files.createTempDirectory("wimg-jmh-read");
    store = Store.open(StoreConfig.defaults(dir).withFsyncPolicy(FsyncPolicy.NEVER));
    fids = new Fid[needles];
    byte[] payload = new byte[dataBytes];
    SplittableRandom random = new SplittableRandom(42);
    int window = 4096;
    @SuppressWarnings("unchecked")
    CompletableFuture<WriteResult>[] inFlight = new CompletableFuture[window];
    for (int i = 0; i < needles; i += window) {
      int n = Math.min(window, needles - i);
      for (int k = 0; k < n; k++) {
        random.nextBytes(payload);
        inFlight[k] = store.write(new NewFile("p" + (i + k) + ".jpg", "image/jpeg", 0L,
            List.of(ByteBuffer.wrap(payload.clone()))));
      }
      for (int k = 0; k < n; k++) {
        fids[i + k] = inFlight[k].join().fid();
      }
    }
    keys = ZipfKeys.draw(needles, ZipfKeys.DEFAULT_EXPONENT, 7);
    for (Fid fid : fids) {
      if (store.read(fid) == null) {
        throw new IllegalStateException("needle " + fid + " not readable after setup");
      }
    }
  }

  @TearDown(Level.Trial)
  public void delete() throws IOException {
    store.close();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }

  @Benchmark
  public StoredFile read(Cursor cursor) throws IOException {
    Fid fid = fids[keys[cursor.next++ & (ZipfKeys.TABLE_SIZE - 1)]];
    return store.read(fid);
  }

  @Benchmark
  public boolean isResident(Cursor cursor) {
    Fid fid = fids[keys[cursor.next++ & (ZipfKeys.TABLE_SIZE - 1)]];
    return store.isResident(fid);
  }
}
