package dev.wimg.storage.internal;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The few C library calls about files that the JDK does not offer: {@code fallocate(2)} (see
 * {@link FileSpace}) and {@code posix_fadvise(2)} (see {@link VolumeSyncer}'s page-cache
 * release), bound with {@code java.lang.foreign}.
 *
 * <p>A {@code FileChannel} does not expose its descriptor, so each call opens the file by path for
 * the call's duration ({@link #withFd}); the callers make one call per preallocation step or per
 * fsync'd batch (under light load a batch may be a single upload: two more system calls beside its
 * fsync).
 *
 * @param callState layout of the captured {@code errno}
 */
record Libc(MethodHandle open, MethodHandle close, MethodHandle fallocate, MethodHandle fadvise,
            StructLayout callState, VarHandle errno) {

  static final int O_RDONLY = 0;
  static final int O_WRONLY = 1;
  static final int O_CLOEXEC = 0x80000;
  /** {@code posix_fadvise} advice: the range will not be accessed soon (drop its clean pages). */
  static final int POSIX_FADV_DONTNEED = 4;

  /** The bindings, or empty where the platform has no such C library or native access is denied. */
  static final Optional<Libc> INSTANCE = bind();

  /** A call made with an open descriptor and the call state that captures {@code errno}. */
  @FunctionalInterface
  interface FdCall<T> {
    T apply(int fd, MemorySegment state) throws Throwable;
  }

  private static Optional<Libc> bind() {
    try {
      Linker linker = Linker.nativeLinker();
      var libc = linker.defaultLookup();
      StructLayout state = Linker.Option.captureStateLayout();
      VarHandle errno = state.varHandle(MemoryLayout.PathElement.groupElement("errno"));
      Linker.Option capture = Linker.Option.captureCallState("errno");
      MethodHandle open = linker.downcallHandle(libc.find("open").orElseThrow(),
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
          capture);
      MethodHandle fallocate = linker.downcallHandle(libc.find("fallocate").orElseThrow(),
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
              ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
          capture);
      // posix_fadvise returns the error number instead of setting errno
      MethodHandle fadvise = linker.downcallHandle(libc.find("posix_fadvise").orElseThrow(),
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
              ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
      MethodHandle close = linker.downcallHandle(libc.find("close").orElseThrow(),
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
      return Optional.of(new Libc(open, close, fallocate, fadvise, state, errno));
    } catch (Throwable e) {
      // Not Linux/glibc, or native access denied: callers fall back or skip.
      return Optional.empty();
    }
  }

  /**
   * Opens {@code path} with {@code flags}, runs {@code call} with the descriptor, closes it.
   *
   * @throws IOException if the file cannot be opened, or {@code call} throws one
   */
  <T> T withFd(Path path, int flags, FdCall<T> call) throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(callState);
      int fd = (int) open.invokeExact(state, arena.allocateFrom(path.toString()), flags | O_CLOEXEC);
      if (fd < 0) {
        throw new IOException("cannot open " + path + ": errno " + errno(state));
      }
      try {
        return call.apply(fd, state);
      } finally {
        int ignored = (int) close.invokeExact(fd);
      }
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new IOException("native call on " + path + " failed", e);
    }
  }

  /** {@code fallocate(fd, 0, offset, length)}: 0, or the errno of the failure. */
  int fallocate(int fd, MemorySegment state, long offset, long length) throws Throwable {
    int rc = (int) fallocate.invokeExact(state, fd, 0, offset, length);
    return rc == 0 ? 0 : errno(state);
  }

  /** {@code posix_fadvise(fd, offset, length, advice)}: 0, or the error number. */
  int fadvise(int fd, long offset, long length, int advice) throws Throwable {
    return (int) fadvise.invokeExact(fd, offset, length, advice);
  }

  private int errno(MemorySegment state) {
    return (int) errno.get(state, 0L);
  }
}
