package dev.wimg.bench.jmh;

import dev.wimg.storage.internal.Needle;
import dev.wimg.storage.internal.NeedleCodec;
import dev.wimg.storage.internal.NeedleHeader;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The needle record codec alone ({@code dev.wimg.storage.internal.NeedleCodec}), without a store,
 * files or threads: how much of a read or write is encoding and checking.
 *
 * <ul>
 *   <li>{@code encode}: a whole record (header with its CRC, name and mime, data, record CRC,
 *       padding) into a new heap buffer.
 *   <li>{@code decode}: full verification of one record held off-heap, as in a mapped volume:
 *       magic, header CRC, record CRC, meta block, padding; returns a view of the data.
 *   <li>{@code decodeHeader}: the header checks alone, which a recovery scan makes per record.
 * </ul>
 *
 * <p>This benchmarks an internal class on purpose: it is public for the engine's own packages and
 * may change with the format; {@link NeedleReadBenchmark} measures the public API.
 *
 * <p>Run (from the repository root, after {@code ./mvnw -q -B package -pl bench -am -DskipTests}):
 * <pre>
 * bench/jmh.sh NeedleCodecBenchmark
 * bench/jmh.sh NeedleCodecBenchmark.decode -p dataBytes=20480 -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class NeedleCodecBenchmark {

  /** Payload bytes: an empty file, 1 KiB, and 20 KiB (about the corpus median picture). */
  @Param({"0", "1024", "20480"})
  int dataBytes;

  private ByteBuffer payload;
  private MemorySegment record;

  @Setup(Level.Trial)
  public void prepare() {
    byte[] bytes = new byte[dataBytes];
    new SplittableRandom(42).nextBytes(bytes);
    payload = ByteBuffer.wrap(bytes);
    ByteBuffer encoded = encode();
    ByteBuffer direct = ByteBuffer.allocateDirect(encoded.remaining());
    direct.put(encoded).flip();
    record = MemorySegment.ofBuffer(direct);
  }

  @Benchmark
  public ByteBuffer encode() {
    return NeedleCodec.encode(0, "p00042.jpg", "image/jpeg", 42, 0x5eed_c0de, 1_700_000_000_000L,
        List.of(payload.duplicate()));
  }

  @Benchmark
  public Needle decode() throws Exception {
    return NeedleCodec.decode(record, 0, record.byteSize(), 1);
  }

  @Benchmark
  public NeedleHeader decodeHeader() throws Exception {
    return NeedleCodec.decodeHeader(record, 0, record.byteSize(), 1);
  }
}
