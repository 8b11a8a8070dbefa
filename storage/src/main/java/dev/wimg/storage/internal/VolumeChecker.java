package dev.wimg.storage.internal;

import dev.wimg.storage.CorruptNeedleException;
import dev.wimg.storage.VerifyReport;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Verify: a read-only pass over every volume in a folder. For each {@code .dat} it checks the
 * superblock, then every record in file order (magic, header checksum, lengths, record checksum,
 * meta, padding), that the bytes after the last record are zero, and that the {@code .idx} agrees
 * with the {@code .dat} entry by entry (offset, key, kind, length). It opens files read-only and
 * changes nothing; a store may have them open meanwhile (it then sees a consistent prefix).
 *
 * <p>Each problem is one line naming the file, the offset and the values that disagree. Records
 * missing from the end of the {@code .idx} are not a problem (the log is not forced per write and is
 * completed on open); a missing, stale or damaged {@code .idx} is.
 */
final class VolumeChecker {

  private VolumeChecker() {}

  static VerifyReport check(Path dir) throws IOException {
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
    long checked = 0;
    long live = 0;
    long deleted = 0;
    for (VolumeFiles vf : found) {
      Scan s = new Scan(vf, problems);
      s.run();
      checked += s.checked;
      live += s.live;
      deleted += s.deleted;
    }
    return new VerifyReport(found.size(), checked, live, deleted, List.copyOf(problems));
  }

  /** The check of one volume. */
  private static final class Scan {
    final VolumeFiles vf;
    final String dat;
    final String idx;
    final List<String> problems;
    final NeedleIndex index = new NeedleIndex();
    MemorySegment map;
    long size;
    long pos = Superblock.SIZE;
    /** The record decoded at {@link #pos} by the last {@link #step}, or null. */
    NeedleHeader last;
    long checked;
    long live;
    long deleted;
    long entryNo;

    Scan(VolumeFiles vf, List<String> problems) {
      this.vf = vf;
      this.dat = vf.dat().getFileName().toString();
      this.idx = vf.idx().getFileName().toString();
      this.problems = problems;
    }

    void problem(String detail) {
      problems.add(dat + ": " + detail);
    }

    void run() throws IOException {
      try (FileChannel ch = FileChannel.open(vf.dat(), StandardOpenOption.READ);
           Arena arena = Arena.ofConfined()) {
        size = ch.size();
        map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        Superblock sb;
        try {
          sb = Superblock.decode(map, dat);
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
    }

    /** Walks the .idx in step with the .dat. */
    private void checkIndex(int revision) throws IOException {
      if (!Files.exists(vf.idx())) {
        problems.add(idx + ": missing (rebuilt from the volume on open)");
        return;
      }
      try (FileChannel ch = FileChannel.open(vf.idx(), StandardOpenOption.READ)) {
        IndexLog.ReadResult r = IndexLog.read(ch, idx, revision, this::entry);
        if (r.stopReason() != null) {
          problems.add(idx + ": " + r.stopReason());
        }
      } catch (VolumeFormatException e) {
        problems.add(e.getMessage() + " (rebuilt from the volume on open)");
      }
    }

    private boolean entry(long key, long offsetUnits, long lengthUnits, boolean tombstone) {
      long n = entryNo++;
      long offset = offsetUnits << NeedleCodec.ALIGNMENT_SHIFT;
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
    private boolean step() {
      last = null;
      NeedleHeader h;
      try {
        h = NeedleCodec.decodeHeader(map, pos, size, vf.volume());
      } catch (CorruptNeedleException e) {
        long nonZero = VolumeLoader.lastNonZero(map, pos, size);
        if (nonZero >= 0) {
          problem(e.getMessage() + "; " + (nonZero + 1 - pos) + " bytes up to offset " + (nonZero + 1)
              + " are not zero");
        }
        return false;
      }
      checked++;
      try {
        NeedleCodec.decodeBody(map, pos, h, vf.volume());
      } catch (CorruptNeedleException e) {
        problem(e.getMessage());
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
  }
}
