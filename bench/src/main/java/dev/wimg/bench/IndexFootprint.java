package dev.wimg.bench;

import dev.wimg.protocol.Fid;
import dev.wimg.storage.FsyncPolicy;
import dev.wimg.storage.NewFile;
import dev.wimg.storage.Store;
import dev.wimg.storage.StoreConfig;
import dev.wimg.storage.StoreStats;
import dev.wimg.storage.StoredFile;
import dev.wimg.storage.WriteResult;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * Measures the storage engine at scale: heap per live needle, and restart time, with ten million
 * needles (issue 2: at most 10 bytes of heap per needle; restart in at most 3 s).
 *
 * <p>What it does, in one JVM:
 * <ol>
 *   <li>Measures the used heap after several full GCs (the baseline).
 *   <li>Opens a {@link Store} in an empty folder with {@link FsyncPolicy#NEVER} (durability is not
 *       what is measured) and writes N tiny needles (0..{@code --max-data} bytes, no name or mime),
 *       at most {@code --window} writes in flight, then waits for every acknowledgement.
 *   <li>Measures the used heap again after full GCs: (used - baseline) / N is the heap per needle,
 *       everything the open store holds included. Also prints the engine's own estimate, the sum of
 *       {@link StoreStats.VolumeStats#indexHeapBytes()} / N.
 *   <li>Closes the store and reports the bytes on disk (.dat, .idx).
 *   <li>Reopens the store {@code --restarts} times, timing {@link Store#open} alone; checks that the
 *       live needle count is N and that a sample of 1,000 needles reads back byte-identical; after
 *       the first reopen measures the heap again (an index rebuilt from the log, no write garbage).
 *       Prints the median restart time.
 *   <li>Then {@code --cold-restarts} more, each after evicting the folder's files from the page
 *       cache (GNU {@code dd iflag=nocache}), so that the index log and the volume tails are read
 *       from the disk.
 * </ol>
 *
 * <p>The warm figure is the CPU cost of loading the index; the cold one adds this disk's reads.
 *
 * <p>Run: {@code bench/index-footprint.sh} (builds, picks a folder on the data disk, passes
 * {@code -Xmx2g}), or
 * <pre>
 * java -Xmx2g -cp 'bench/target/classes:bench/target/lib/*' dev.wimg.bench.IndexFootprint \
 *     --data /work/tmp/footprint [--needles 10000000] [--max-data 16] [--volume-size 268435456] \
 *     [--restarts 3] [--cold-restarts 3] [--window 65536]
 * </pre>
 * The folder must be missing or empty; it is left in place (the script deletes it).
 */
public final class IndexFootprint {

  /** Needles whose reads are checked after each restart. */
  private static final int SAMPLE_SIZE = 1_000;
  /** Full GCs before reading the used heap: enough for G1 to settle to a stable figure. */
  private static final int GC_ROUNDS = 5;

  private final Path data;
  private final long needles;
  private final int maxData;
  private final long volumeSize;
  private final int restarts;
  private final int window;
  private final int coldRestarts;
  /** Used heap before the store was opened, bytes. */
  private long baseline;

  private IndexFootprint(Path data, long needles, int maxData, long volumeSize, int restarts, int window,
                         int coldRestarts) {
    this.data = data;
    this.needles = needles;
    this.maxData = maxData;
    this.volumeSize = volumeSize;
    this.restarts = restarts;
    this.window = window;
    this.coldRestarts = coldRestarts;
  }

  public static void main(String[] args) throws Exception {
    Path data = null;
    long needles = 10_000_000;
    int maxData = 16;
    long volumeSize = 256L << 20;
    int restarts = 3;
    int window = 65_536;
    int coldRestarts = 3;
    try {
      for (int i = 0; i < args.length; i += 2) {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException(args[i] + " needs a value");
        }
        String v = args[i + 1];
        switch (args[i]) {
          case "--data" -> data = Path.of(v);
          case "--needles" -> needles = Long.parseLong(v);
          case "--max-data" -> maxData = Integer.parseInt(v);
          case "--volume-size" -> volumeSize = Long.parseLong(v);
          case "--restarts" -> restarts = Integer.parseInt(v);
          case "--window" -> window = Integer.parseInt(v);
          case "--cold-restarts" -> coldRestarts = Integer.parseInt(v);
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
      }
      if (data == null) {
        throw new IllegalArgumentException("--data DIR is required");
      }
      if (needles < SAMPLE_SIZE) {
        throw new IllegalArgumentException("--needles must be >= " + SAMPLE_SIZE + ", got " + needles);
      }
      if (maxData < 0 || maxData > 4096) {
        throw new IllegalArgumentException("--max-data must be 0..4096, got " + maxData);
      }
      if (restarts < 1 || window < 1 || coldRestarts < 0) {
        throw new IllegalArgumentException("--restarts and --window must be >= 1, --cold-restarts >= 0");
      }
      if (Files.exists(data)) {
        try (Stream<Path> s = Files.list(data)) {
          if (s.findAny().isPresent()) {
            throw new IllegalArgumentException("--data " + data + " must be missing or empty");
          }
        }
      }
    } catch (IllegalArgumentException e) {
      System.err.println("IndexFootprint: " + e.getMessage());
      System.exit(2);
      return;
    }
    new IndexFootprint(data, needles, maxData, volumeSize, restarts, window, coldRestarts).run();
  }

  private StoreConfig config() {
    return StoreConfig.defaults(data).withFsyncPolicy(FsyncPolicy.NEVER).withVolumeSizeLimit(volumeSize);
  }

  /** Payload of needle number {@code i}: deterministic, so reads can be checked without keeping it. */
  private byte[] payload(long i) {
    byte[] b = new byte[(int) (i % (maxData + 1))];
    for (int j = 0; j < b.length; j++) {
      b[j] = (byte) (i * 31 + j * 7);
    }
    return b;
  }

  private void run() throws Exception {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    long sampleEvery = needles / SAMPLE_SIZE;
    Fid[] sample = new Fid[SAMPLE_SIZE];
    @SuppressWarnings("unchecked")
    CompletableFuture<WriteResult>[] inFlight = new CompletableFuture[(int) Math.min(window, needles)];

    System.out.printf(Locale.ROOT, "data folder: %s%n", data.toAbsolutePath());
    System.out.printf(Locale.ROOT, "needles: %,d of 0..%d bytes, volume size limit %,d bytes, max heap %,d bytes%n",
        needles, maxData, volumeSize, Runtime.getRuntime().maxMemory());
    baseline = usedHeapAfterGc(memory);

    Store store = Store.open(config());
    long t0 = System.nanoTime();
    long i = 0;
    while (i < needles) {
      int n = (int) Math.min(inFlight.length, needles - i);
      for (int k = 0; k < n; k++) {
        inFlight[k] = store.write(new NewFile(null, null, 0L, List.of(ByteBuffer.wrap(payload(i + k)))));
      }
      for (int k = 0; k < n; k++) {
        WriteResult r = inFlight[k].join();
        long index = i + k;
        if (index % sampleEvery == 0 && index / sampleEvery < SAMPLE_SIZE) {
          sample[(int) (index / sampleEvery)] = r.fid();
        }
        inFlight[k] = null;
      }
      i += n;
    }
    double writeSeconds = (System.nanoTime() - t0) / 1e9;
    System.out.printf(Locale.ROOT, "wrote %,d needles in %.1f s (%,.0f needles/s, fsync never)%n",
        needles, writeSeconds, needles / writeSeconds);

    long afterWrite = usedHeapAfterGc(memory);
    StoreStats stats = store.stats();
    long indexHeap = stats.volumes().stream().mapToLong(StoreStats.VolumeStats::indexHeapBytes).sum();
    if (stats.liveNeedles() != needles) {
      throw new IllegalStateException("store reports " + stats.liveNeedles() + " live needles, wrote " + needles);
    }
    System.out.printf(Locale.ROOT, "volumes: %d%n", stats.volumes().size());
    System.out.printf(Locale.ROOT, "heap per needle, measured (used heap after GC, open store - baseline) / N: %.2f bytes (%,d bytes)%n",
        (double) (afterWrite - baseline) / needles, afterWrite - baseline);
    System.out.printf(Locale.ROOT, "heap per needle, engine estimate (sum indexHeapBytes / N): %.2f bytes%n",
        (double) indexHeap / needles);

    long tc = System.nanoTime();
    store.close();
    store = null; // a closed store still references its index: drop it before measuring again
    System.out.printf(Locale.ROOT, "close: %.2f s%n", (System.nanoTime() - tc) / 1e9);
    long[] sizes = diskBytes();
    System.out.printf(Locale.ROOT, "on disk: .dat %,d bytes, .idx %,d bytes, total %,d bytes (%.1f bytes/needle)%n",
        sizes[0], sizes[1], sizes[0] + sizes[1], (double) (sizes[0] + sizes[1]) / needles);

    restarts(sample, sampleEvery, false, restarts);
    if (coldRestarts > 0) {
      restarts(sample, sampleEvery, true, coldRestarts);
    }
  }

  /**
   * Reopens the store {@code count} times, timing {@link Store#open}; checks the needle count and
   * the sample after each. With {@code cold}, first evicts the data folder's files from the page
   * cache (see {@link #evictFromPageCache}). Measures the heap after the first warm reopen.
   */
  private void restarts(Fid[] sample, long sampleEvery, boolean cold, int count) throws Exception {
    String label = cold ? "cold" : "warm";
    double[] seconds = new double[count];
    for (int r = 0; r < count; r++) {
      if (cold) {
        evictFromPageCache();
      }
      long start = System.nanoTime();
      Store reopened = Store.open(config());
      seconds[r] = (System.nanoTime() - start) / 1e9;
      try {
        long live = reopened.stats().liveNeedles();
        if (live != needles) {
          throw new IllegalStateException("after restart the store has " + live + " live needles, wrote " + needles);
        }
        checkSample(reopened, sample, sampleEvery);
        if (r == 0 && !cold) {
          long afterOpen = usedHeapAfterGc(ManagementFactory.getMemoryMXBean());
          System.out.printf(Locale.ROOT, "heap per needle after restart (index loaded from the log): %.2f bytes%n",
              (double) (afterOpen - baseline) / needles);
        }
      } finally {
        reopened.close();
      }
      System.out.printf(Locale.ROOT, "restart %d (%s page cache): Store.open %.3f s%n", r + 1, label, seconds[r]);
    }
    double[] sorted = seconds.clone();
    Arrays.sort(sorted);
    System.out.printf(Locale.ROOT, "restart median of %d, %s page cache: %.3f s (%,d needles)%n",
        count, label, sorted[count / 2], needles);
  }

  /**
   * Drops the cached pages of every file in the data folder, so that the next open reads from the
   * disk: runs {@code dd if=FILE iflag=nocache count=0} (GNU coreutils: posix_fadvise DONTNEED on the
   * whole file). The files were fsynced by close, so their pages are clean and can be dropped.
   * Touches only these files, not the machine's whole cache.
   */
  private void evictFromPageCache() throws IOException, InterruptedException {
    try (Stream<Path> files = Files.list(data)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Process dd = new ProcessBuilder("dd", "if=" + p, "iflag=nocache", "count=0", "status=none")
            .redirectErrorStream(true).start();
        String output = new String(dd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (dd.waitFor() != 0) {
          throw new IOException("dd could not evict " + p + " from the page cache: " + output.strip());
        }
      }
    }
  }

  private void checkSample(Store store, Fid[] sample, long sampleEvery) throws IOException {
    for (int s = 0; s < sample.length; s++) {
      byte[] expected = payload(s * sampleEvery);
      StoredFile f = store.read(sample[s]);
      if (f == null) {
        throw new IllegalStateException("needle " + sample[s] + " is missing after restart");
      }
      byte[] actual = new byte[f.data().remaining()];
      f.data().duplicate().get(actual);
      if (!Arrays.equals(expected, actual)) {
        throw new IllegalStateException("needle " + sample[s] + " reads back different bytes after restart");
      }
    }
  }

  /** Bytes of {@code .dat} files and of {@code .idx} files in the data folder (file sizes). */
  private long[] diskBytes() throws IOException {
    long[] sizes = new long[2];
    try (Stream<Path> files = Files.list(data)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        String name = p.getFileName().toString();
        if (name.endsWith(".dat")) {
          sizes[0] += Files.size(p);
        } else if (name.endsWith(".idx")) {
          sizes[1] += Files.size(p);
        }
      }
    }
    return sizes;
  }

  /** Used heap after {@value #GC_ROUNDS} explicit full GCs (G1 runs System.gc() as a full GC). */
  private static long usedHeapAfterGc(MemoryMXBean memory) throws InterruptedException {
    long used = 0;
    for (int k = 0; k < GC_ROUNDS; k++) {
      System.gc();
      Thread.sleep(50);
      used = memory.getHeapMemoryUsage().getUsed();
    }
    return used;
  }
}
