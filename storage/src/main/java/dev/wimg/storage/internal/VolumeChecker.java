package dev.wimg.storage.internal;

import dev.wimg.storage.CorruptNeedleException;
import dev.wimg.storage.VerifyReport;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Verify: a read-only pass over every volume in a folder. For each {@code .dat} it checks the
 * superblock, then every record in file order (magic, header checksum, lengths, record checksum,
 * meta, padding), that the bytes after the last record are zero, and that the {@code .idx} agrees
 * with the {@code .dat} entry by entry (offset, key, kind, length). It opens files read-only and
 * changes nothing.
 *
 * <p>Each problem is one line naming the file, the offset and the values that disagree. Records
 * missing from the end of the {@code .idx} are not a problem (the log is not forced per write and is
 * completed on open); a missing, stale or damaged {@code .idx} is.
 *
 * <p>A running store may change the files meanwhile: it appends to the active volume and grows its
 * preallocation (the check reads to the end the file had when it was opened), cuts the
 * preallocated tail off a volume it seals, and renames a compacted copy over a volume it vacuums.
 * The check reads with positional reads into its own buffer, never through a mapping, so a file
 * that shrinks under it is a short read, not a fault: the volume is then reported as changed
 * ({@link VerifyReport#changed()}), as is one whose {@code .dat} or {@code .idx} is another file at
 * the end of its check than at the start, and its findings are left out, since they may describe
 * neither file.
 *
 * <p>Memory: one read buffer of {@value #WINDOW_BYTES} bytes per volume, grown to the largest
 * record when a record is larger.
 */
final class VolumeChecker {

  /** Bytes read from a {@code .dat} at once, and the smallest read buffer. */
  static final int WINDOW_BYTES = 1 << 20;
  /** Largest single read into the buffer (a ByteBuffer view is int-indexed), bytes. */
  private static final long MAX_READ = 1L << 30;

  /** Called before each record is read: lets a test change the file in the middle of a check. */
  @FunctionalInterface
  interface Probe {
    void beforeRecord(Path dat, long offset) throws IOException;
  }

  private VolumeChecker() {}

  static VerifyReport check(Path dir) throws IOException {
    return check(dir, (dat, offset) -> { });
  }

  static VerifyReport check(Path dir, Probe probe) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new NoSuchFileException(dir.toString(), null, "not a folder");
    }
    List<VolumeFiles> found = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.dat")) {
      for (Path p : files) {
        VolumeFiles vf = VolumeFiles.parse(dir, p.getFileName().toString());
        if (vf != null) {
          found.add(vf);
        }
      }
    }
    found.sort(Comparator.comparingInt(VolumeFiles::group).thenComparingInt(VolumeFiles::volume));
    List<String> problems = new ArrayList<>();
    List<String> changed = new ArrayList<>();
    long checked = 0;
    long live = 0;
    long deleted = 0;
    for (VolumeFiles vf : found) {
      Scan s = new Scan(vf, probe);
      s.run();
      checked += s.checked;
      live += s.live;
      deleted += s.deleted;
      if (s.changed != null) {
        changed.add(s.changed + "; its findings are left out, check it again");
      } else {
        problems.addAll(s.problems);
      }
    }
    return new VerifyReport(found.size(), checked, live, deleted, List.copyOf(problems),
        List.copyOf(changed));
  }

  /** The file changed under the check: {@link #getMessage()} says how. */
  private static final class FileChanged extends Exception {
    FileChanged(String how) {
      super(how, null, false, false);
    }
  }

  /** The check of one volume. */
  private static final class Scan {
    final VolumeFiles vf;
    final String dat;
    final String idx;
    final Probe probe;
    final List<String> problems = new ArrayList<>();
    final NeedleIndex index = new NeedleIndex();
    FileChannel ch;
    /** Size of the .dat when opened (or later, when an index entry points past it): the check's end. */
    long size;
    /** Read buffer: holds {@link #filled} bytes of the .dat from file offset {@link #base}. */
    MemorySegment window = MemorySegment.NULL;
    long base;
    long filled;
    long pos = Superblock.SIZE;
    /** The record decoded at {@link #pos} by the last {@link #step}, or null. */
    NeedleHeader last;
    long checked;
    long live;
    long deleted;
    long entryNo;
    /** How the files changed under the check, or null. */
    String changed;

    Scan(VolumeFiles vf, Probe probe) {
      this.vf = vf;
      this.dat = vf.dat().getFileName().toString();
      this.idx = vf.idx().getFileName().toString();
      this.probe = probe;
    }

    void problem(String detail) {
      problems.add(dat + ": " + detail);
    }

    void run() throws IOException {
      Object datKey = fileKey(vf.dat());
      Object idxKey = fileKey(vf.idx());
      try (FileChannel ch = FileChannel.open(vf.dat(), StandardOpenOption.READ)) {
        this.ch = ch;
        size = ch.size();
        try {
          scan();
        } catch (FileChanged e) {
          changed = e.getMessage();
          return;
        }
      }
      if (!Objects.equals(datKey, fileKey(vf.dat()))) {
        changed = dat + ": replaced by another file while being checked";
      } else if (!Objects.equals(idxKey, fileKey(vf.idx()))) {
        changed = idx + ": replaced by another file while being checked";
      }
    }

    private void scan() throws IOException, FileChanged {
      int superblock = (int) Math.min(Superblock.SIZE, size);
      load(0, superblock);
      Superblock sb;
      try {
        sb = Superblock.decode(window.asSlice(0, superblock), dat);
      } catch (VolumeFormatException e) {
        problems.add(e.getMessage());
        return;
      }
      if (sb.group() != vf.group() || sb.volume() != vf.volume()) {
        problem("superblock names group " + sb.group() + " volume " + sb.volume());
      }
      checkIndex(sb.revision());
      while (pos < size && step()) {
        pos += last.recordLength();
      }
    }

    /** Walks the .idx in step with the .dat. */
    private void checkIndex(int revision) throws IOException, FileChanged {
      if (!Files.exists(vf.idx())) {
        problems.add(idx + ": missing (rebuilt from the volume on open)");
        return;
      }
      FileChanged[] changedMeanwhile = {null};
      try (FileChannel ich = FileChannel.open(vf.idx(), StandardOpenOption.READ)) {
        IndexLog.ReadResult r = IndexLog.read(ich, idx, revision, (key, offsetUnits, lengthUnits, tombstone) -> {
          try {
            return entry(key, offsetUnits, lengthUnits, tombstone);
          } catch (FileChanged e) {
            changedMeanwhile[0] = e;
            return false;
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
        if (changedMeanwhile[0] != null) {
          throw changedMeanwhile[0];
        }
        if (r.stopReason() != null) {
          problems.add(idx + ": " + r.stopReason());
        }
      } catch (EOFException e) {
        throw new FileChanged(idx + ": shrank while being checked");
      } catch (VolumeFormatException e) {
        problems.add(e.getMessage() + " (rebuilt from the volume on open)");
      } catch (java.io.UncheckedIOException e) {
        throw e.getCause();
      }
    }

    private boolean entry(long key, long offsetUnits, long lengthUnits, boolean tombstone)
        throws IOException, FileChanged {
      long n = entryNo++;
      long offset = offsetUnits << NeedleCodec.ALIGNMENT_SHIFT;
      if (offset >= size) {
        grownSize(); // a store appended after the .dat was opened and indexed it
      }
      while (pos < offset) {
        if (!step()) {
          problem("bytes " + pos + ".." + offset + " hold no readable record, yet index entry " + n
              + " points after them");
          pos = offset;
          break;
        }
        problem("record at offset " + pos + " (key " + last.key() + ") is missing from the index, "
            + "which goes on at offset " + offset);
        pos += last.recordLength();
      }
      if (pos != offset) {
        problems.add(idx + ": entry " + n + " for key " + key + " points to offset " + offset
            + ", not to a record start (next record at " + pos + ")");
        return true;
      }
      if (pos >= size || !step()) {
        problems.add(idx + ": entry " + n + " for key " + key + " points to offset " + offset
            + " where no readable record is");
        return true;
      }
      long expected = tombstone ? NeedleCodec.TOMBSTONE_RECORD_LENGTH : lengthUnits << NeedleCodec.ALIGNMENT_SHIFT;
      if (last.key() != key || last.tombstone() != tombstone || last.recordLength() != expected) {
        problems.add(idx + ": entry " + n + " says key " + key + (tombstone ? " tombstone" : " needle")
            + " of " + expected + " bytes at offset " + offset + ", the volume has key " + last.key()
            + (last.tombstone() ? " tombstone" : " needle") + " of " + last.recordLength() + " bytes");
      }
      pos += last.recordLength();
      return true;
    }

    /**
     * Checks the record at {@link #pos}; returns false (and reports why, unless it is the zero
     * preallocation) if there is none to step over.
     */
    private boolean step() throws IOException, FileChanged {
      last = null;
      probe.beforeRecord(vf.dat(), pos);
      // A check that fails is made again on bytes read afresh: the window may have been read
      // ahead before a store appended the record (its index entry can name it by now).
      NeedleHeader h;
      try {
        h = header(false);
      } catch (CorruptNeedleException stale) {
        try {
          h = header(true);
        } catch (CorruptNeedleException e) {
          long nonZero = lastNonZero(pos, size);
          if (nonZero >= 0) {
            problem(e.getMessage() + "; " + (nonZero + 1 - pos) + " bytes up to offset "
                + (nonZero + 1) + " are not zero");
          }
          return false;
        }
      }
      checked++;
      try {
        body(h, false);
      } catch (CorruptNeedleException stale) {
        try {
          body(h, true);
        } catch (CorruptNeedleException e) {
          problem(e.getMessage());
        }
      }
      if (h.tombstone()) {
        if (index.get(h.key()) != 0) {
          index.set(h.key(), 0);
          live--;
          deleted++;
        }
      } else if (index.get(h.key()) == 0) {
        index.set(h.key(), (int) (pos >>> NeedleCodec.ALIGNMENT_SHIFT));
        live++;
      } else {
        problem("record at offset " + pos + " repeats key " + h.key());
      }
      last = h;
      return true;
    }

    /** The header at {@link #pos}; {@code fresh}: read from the file, not from the window. */
    private NeedleHeader header(boolean fresh) throws IOException, FileChanged, CorruptNeedleException {
      load(pos, Math.min(NeedleCodec.HEADER_SIZE, size - pos), fresh);
      return NeedleCodec.decodeHeaderCopy(window, base, pos, size, vf.volume());
    }

    /** Checks the body of the record at {@link #pos}; {@code fresh} as for {@link #header}. */
    private void body(NeedleHeader h, boolean fresh) throws IOException, FileChanged, CorruptNeedleException {
      load(pos, h.recordLength(), fresh);
      NeedleCodec.decodeBodyCopy(window, base, pos, h, vf.volume());
    }

    private void load(long from, long length) throws IOException, FileChanged {
      load(from, length, false);
    }

    /**
     * Makes the window hold the bytes {@code [from, from + length)} of the .dat, which lie below
     * {@link #size}; reads ahead up to {@value #WINDOW_BYTES} bytes.
     *
     * @param fresh read them from the file even if the window holds them
     * @throws FileChanged if the file ends before them: it shrank since it was opened
     */
    private void load(long from, long length, boolean fresh) throws IOException, FileChanged {
      if (!fresh && from >= base && from + length <= base + filled) {
        return;
      }
      long want = Math.min(Math.max(length, WINDOW_BYTES), size - from);
      if (window.byteSize() < want) {
        window = Arena.ofAuto().allocate(Math.max(want, WINDOW_BYTES), NeedleCodec.ALIGNMENT);
      }
      base = from;
      filled = 0;
      while (filled < want) {
        int n = ch.read(window.asSlice(filled, Math.min(MAX_READ, want - filled)).asByteBuffer(),
            from + filled);
        if (n < 0) {
          break;
        }
        filled += n;
      }
      if (filled < length) {
        throw new FileChanged(dat + ": shrank from " + size + " to " + ch.size()
            + " bytes while being checked");
      }
    }

    /** Takes the .dat's current size as the check's end if it grew. */
    private void grownSize() throws IOException, FileChanged {
      long now = ch.size();
      if (now < size) {
        throw new FileChanged(dat + ": shrank from " + size + " to " + now
            + " bytes while being checked");
      }
      size = now;
    }

    /** Offset of the last non-zero byte of the .dat in {@code [from, to)}, or -1. */
    private long lastNonZero(long from, long to) throws IOException, FileChanged {
      for (long chunkEnd = to; chunkEnd > from; ) {
        long chunkStart = Math.max(from, chunkEnd - WINDOW_BYTES);
        load(chunkStart, chunkEnd - chunkStart);
        long p = chunkEnd;
        while (p - Long.BYTES >= chunkStart
            && window.get(ValueLayout.JAVA_LONG_UNALIGNED, p - Long.BYTES - base) == 0) {
          p -= Long.BYTES;
        }
        for (; p > chunkStart; p--) {
          if (window.get(ValueLayout.JAVA_BYTE, p - 1 - base) != 0) {
            return p - 1;
          }
        }
        chunkEnd = chunkStart;
      }
      return -1;
    }

    /** Identity of the file at {@code path} (device and inode on Linux), or null if none. */
    private static Object fileKey(Path path) throws IOException {
      try {
        return Files.readAttributes(path, BasicFileAttributes.class).fileKey();
      } catch (NoSuchFileException e) {
        return null;
      }
    }
  }
}
