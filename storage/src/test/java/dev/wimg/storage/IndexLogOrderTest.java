package dev.wimg.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Under {@code fsync=always} the index log names a record only once the {@code .dat} was forced
 * over it, so a power loss can never leave a log entry pointing at bytes that did not reach the
 * disk. A crash cannot be timed from a test, so the test watches the moment instead: while four
 * threads upload, an observer reads every entry as soon as it appears in the {@code .idx} and asks
 * the kernel ({@code cachestat(2)}, Linux 6.5+) whether any page inside the record it names is
 * still dirty or under writeback, i.e. not yet durable. A log appended before the fsync (the order
 * before 2026-12-05) is caught within a few batches; the order kept now is never caught.
 *
 * <p>Only pages wholly inside a record are asked about: a record's first and last pages are shared
 * with its neighbours, which later appends dirty again.
 */
class IndexLogOrderTest {

  private static final int PAGE = 4096;
  /** Upload size: 16 pages, so every record has at least 14 pages of its own. */
  private static final int UPLOAD_BYTES = 64 << 10;
  private static final int UPLOADS = 1200;
  private static final int THREADS = 4;
  /** cachestat(2) on every architecture with the unified syscall table (x86_64, arm64). */
  private static final long SYS_CACHESTAT = 451;

  @TempDir Path dir;

  @Test
  void everyLogEntryNamesARecordWhosePagesAreAlreadyDurable() throws Throwable {
    PageState pages = PageState.bind();
    StoreConfig config = StoreConfig.defaults(dir).withReleaseWrittenPages(false);
    AtomicReference<String> violation = new AtomicReference<>();
    AtomicLong entriesSeen = new AtomicLong();
    AtomicBoolean done = new AtomicBoolean();
    try (Store store = Store.open(config)) {
      store.write(NewFile.of(null, null, new byte[1])).get(); // creates 1-1.dat and 1-1.idx
      Thread observer = Thread.ofPlatform().name("idx-observer").start(() -> {
        try (FileChannel idx = FileChannel.open(dir.resolve("1-1.idx"), StandardOpenOption.READ);
             Arena arena = Arena.ofConfined()) {
          int datFd = pages.open(arena, dir.resolve("1-1.dat"));
          ByteBuffer entry = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
          long next = 16;
          while (violation.get() == null) {
            boolean finished = done.get();
            while (next + 16 <= idx.size()) {
              entry.clear();
              while (entry.hasRemaining() && idx.read(entry, next + entry.position()) > 0) {
                // read the whole entry
              }
              long offset = Integer.toUnsignedLong(entry.getInt(4)) << 3;
              long length = Integer.toUnsignedLong(entry.getInt(8) & 0x7FFF_FFFF) << 3;
              long from = (offset + PAGE - 1) / PAGE * PAGE;
              long to = (offset + length) / PAGE * PAGE;
              if (to > from) {
                long notDurable = pages.dirtyOrWriteback(arena, datFd, from, to - from);
                if (notDurable > 0) {
                  violation.compareAndSet(null, "the log names the record at offset " + offset + " ("
                      + length + " bytes) while " + notDurable + " of its pages are not durable");
                }
              }
              entriesSeen.incrementAndGet();
              next += 16;
            }
            if (finished) {
              break;
            }
            Thread.onSpinWait();
          }
          pages.close(datFd);
        } catch (Throwable e) {
          violation.compareAndSet(null, "observer failed: " + e);
        }
      });
      List<CompletableFuture<Void>> uploaders = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        int seed = t;
        uploaders.add(CompletableFuture.runAsync(() -> {
          byte[] data = new byte[UPLOAD_BYTES];
          Random random = new Random(seed);
          for (int i = 0; i < UPLOADS / THREADS && violation.get() == null; i++) {
            random.nextBytes(data);
            store.write(NewFile.of(null, null, data)).join();
          }
        }));
      }
      CompletableFuture.allOf(uploaders.toArray(CompletableFuture[]::new)).join();
      done.set(true);
      observer.join();
    }
    assertThat(violation.get()).isNull();
    assertThat(entriesSeen.get()).as("entries observed").isGreaterThan(UPLOADS / 2);
  }

  /** {@code open(2)}, {@code close(2)} and {@code cachestat(2)} through {@code syscall(2)}. */
  private record PageState(MethodHandle open, MethodHandle close, MethodHandle syscall) {

    static PageState bind() throws Throwable {
      Linker linker = Linker.nativeLinker();
      var libc = linker.defaultLookup();
      PageState p = new PageState(
          linker.downcallHandle(libc.find("open").orElseThrow(),
              FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT)),
          linker.downcallHandle(libc.find("close").orElseThrow(),
              FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)),
          linker.downcallHandle(libc.find("syscall").orElseThrow(),
              FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                  ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG),
              Linker.Option.firstVariadicArg(1)));
      try (Arena arena = Arena.ofConfined()) {
        long result = p.cachestat(arena, -1, 0, 0, null);
        // EBADF answers a kernel that has the call; ENOSYS (-1 with no struct touched) one that has not
        Assumptions.assumeTrue(result == -1 && p.lastCallWasBadFd(arena),
            "cachestat(2) needs Linux 6.5 or newer; this kernel does not have it");
      }
      return p;
    }

    int open(Arena arena, Path file) throws Throwable {
      int fd = (int) open.invokeExact(arena.allocateFrom(file.toString()), 0);
      if (fd < 0) {
        throw new IllegalStateException("cannot open " + file);
      }
      return fd;
    }

    void close(int fd) throws Throwable {
      int ignored = (int) close.invokeExact(fd);
    }

    /** Pages of {@code [from, from + length)} that are dirty or under writeback. */
    long dirtyOrWriteback(Arena arena, int fd, long from, long length) throws Throwable {
      MemorySegment stat = arena.allocate(5 * 8);
      long result = cachestat(arena, fd, from, length, stat);
      if (result != 0) {
        throw new IllegalStateException("cachestat failed: " + result);
      }
      return stat.getAtIndex(ValueLayout.JAVA_LONG, 1) + stat.getAtIndex(ValueLayout.JAVA_LONG, 2);
    }

    private long cachestat(Arena arena, long fd, long from, long length, MemorySegment stat) throws Throwable {
      MemorySegment range = arena.allocate(16);
      range.setAtIndex(ValueLayout.JAVA_LONG, 0, from);
      range.setAtIndex(ValueLayout.JAVA_LONG, 1, length);
      MemorySegment out = stat == null ? MemorySegment.NULL : stat;
      return (long) syscall.invokeExact(SYS_CACHESTAT, fd, range, out, 0L);
    }

    private boolean lastCallWasBadFd(Arena arena) throws Throwable {
      // A second call on a real descriptor tells EBADF (kernel has it) from ENOSYS without errno.
      MemorySegment stat = arena.allocate(5 * 8);
      int fd = (int) open.invokeExact(arena.allocateFrom("/"), 0);
      try {
        return cachestat(arena, fd, 0, 0, stat) == 0;
      } finally {
        close(fd);
      }
    }
  }
}
