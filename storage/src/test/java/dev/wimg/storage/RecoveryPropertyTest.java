package dev.wimg.storage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.protocol.Fid;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;

/**
 * Recovery as a whole, through the public API: random needles (some deleted) in a closed store,
 * random damage to its files, reopen. A read never returns bytes that were not written: each needle
 * reads back byte for byte with its checksum, or reads as absent or corrupt. A needle whose bytes
 * the damage did not touch always reads back, and a deleted one whose tombstone it did not touch
 * stays deleted: recovery never gives up what may have been acknowledged (see {@code
 * VolumeLoader}'s recovery rules). The same holds on a second open, after what the first one
 * changed.
 *
 * <p>Where each record lies is taken from the {@code .idx} before the damage, read by the layout
 * that {@code docs/FORMAT.md} documents (16-byte header, then 16-byte entries: key, offset and
 * length in 8-byte units, bit 31 of the length a tombstone).
 */
class RecoveryPropertyTest {

  /** Bytes of a tombstone record (docs/FORMAT.md). */
  private static final int TOMBSTONE_BYTES = 40;
  private static final int SUPERBLOCK_BYTES = 64;

  private Path root;

  @BeforeProperty
  void createFolder() throws IOException {
    root = Files.createTempDirectory("recovery-property-test");
  }

  @AfterProperty
  void deleteFolder() throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** A needle as written, and whether it was then deleted. */
  record Written(WriteResult result, String name, String mime, long lastModified, byte[] data, boolean deleted) {}

  /** A byte range [from, to) of the .dat. */
  record Range(long from, long to) {
    boolean overlaps(Range other) {
      return from < other.to && other.from < to;
    }
  }

  static StoreConfig config(Path dir) {
    return StoreConfig.defaults(dir).withPreallocateBytes(64 << 10);
  }

  @Property(tries = 20)
  void damageNeverMakesAReadReturnWrongBytesAndSparesWhatItDidNotTouch(
      @ForAll @IntRange(min = 1, max = 30) int needles,
      @ForAll long seed,
      @ForAll @IntRange(min = 0, max = 1000) int idxCutPermille,
      @ForAll boolean flip,
      @ForAll boolean zero,
      @ForAll @IntRange(min = 0, max = 300) int datJunk,
      @ForAll @IntRange(min = 0, max = 40) int idxJunk) throws Exception {
    Random random = new Random(seed);
    Path dir = Files.createTempDirectory(root, "store");
    List<Written> written = writeStore(dir, needles, random);
    Path dat = dir.resolve("1-1.dat");
    Path idx = dir.resolve("1-1.idx");
    Map<Long, Range> records = new HashMap<>();
    Map<Long, Range> tombstones = new HashMap<>();
    readLayout(idx, records, tombstones);
    assertThat(records).hasSize(needles);

    List<Range> damaged = new ArrayList<>();
    StringBuilder damage = new StringBuilder();
    long idxSize = Files.size(idx);
    long idxCut = idxSize * idxCutPermille / 1000;
    try (FileChannel ch = FileChannel.open(idx, StandardOpenOption.WRITE)) {
      ch.truncate(idxCut);
    }
    damage.append(".idx cut to ").append(idxCut).append(" of ").append(idxSize);
    long used = records.values().stream().mapToLong(Range::to).max().orElseThrow();
    used = Math.max(used, tombstones.values().stream().mapToLong(Range::to).max().orElse(0));
    if (flip) {
      Written victim = written.get(random.nextInt(needles));
      Range r = records.get(victim.result().fid().key());
      long at = r.from() + random.nextLong(r.to() - r.from());
      int mask = 1 + random.nextInt(255);
      flipByte(dat, at, mask);
      damaged.add(new Range(at, at + 1));
      damage.append("; .dat byte ").append(at).append(" ^= ").append(mask);
    }
    if (zero) {
      long from = SUPERBLOCK_BYTES + 8 * random.nextLong((used - SUPERBLOCK_BYTES) / 8);
      long to = Math.min(used, from + 8 * (1 + random.nextInt(512)));
      writeAt(dat, from, new byte[(int) (to - from)]);
      damaged.add(new Range(from, to));
      damage.append("; .dat zeroed ").append(from).append("..").append(to);
    }
    append(dat, datJunk, random);
    append(idx, idxJunk, random);
    damage.append("; junk appended: ").append(datJunk).append(" to .dat, ").append(idxJunk).append(" to .idx");

    for (int open = 1; open <= 2; open++) {
      try (Store store = Store.open(config(dir))) {
        Statistics.label("volume on open " + open)
            .collect(store.stats().volumes().getFirst().readOnly() ? "in doubt, read-only" : "writable");
        for (Written w : written) {
          Fid fid = w.result().fid();
          boolean needleTouched = damaged.stream().anyMatch(records.get(fid.key())::overlaps);
          Range tombstone = tombstones.get(fid.key());
          boolean tombstoneTouched = tombstone != null && damaged.stream().anyMatch(tombstone::overlaps);
          String what = "open " + open + ", needle " + fid + (w.deleted() ? " (deleted)" : "") + " after " + damage;
          StoredFile f;
          try {
            f = store.read(fid);
          } catch (CorruptNeedleException e) {
            Statistics.collect(w.deleted() ? "deleted" : needleTouched ? "touched" : "untouched", "corrupt");
            assertThat(needleTouched).as(what + ": reported corrupt, untouched: " + e.getMessage()).isTrue();
            continue;
          }
          Statistics.collect(w.deleted() ? "deleted" : needleTouched ? "touched" : "untouched",
              f == null ? "absent" : "read back");
          if (f != null) {
            assertThat(content(f)).as(what).isEqualTo(w.data());
            assertThat(f.checksum()).as(what).isEqualTo(w.result().checksum());
            assertThat(f.name()).as(what).isEqualTo(w.name());
            assertThat(f.mime()).as(what).isEqualTo(w.mime());
            assertThat(f.lastModified()).as(what).isEqualTo(w.lastModified());
            assertThat(f.fid()).as(what).isEqualTo(fid);
            // a deleted needle comes back only if its tombstone is gone
            assertThat(!w.deleted() || tombstoneTouched).as(what + ": deleted needle read back").isTrue();
          } else {
            assertThat(w.deleted() || needleTouched).as(what + ": untouched needle lost").isTrue();
          }
          Fid wrongCookie = new Fid(fid.group(), fid.volume(), fid.key(), fid.cookie() ^ 1);
          assertThat(readOrCorrupt(store, wrongCookie)).as(what + ": read with another cookie").isNull();
        }
      }
    }
  }

  /** The file, or null if absent or reported corrupt. */
  private static StoredFile readOrCorrupt(Store store, Fid fid) throws IOException {
    try {
      return store.read(fid);
    } catch (CorruptNeedleException e) {
      return null;
    }
  }

  private static List<Written> writeStore(Path dir, int needles, Random random) throws Exception {
    List<Written> written = new ArrayList<>();
    try (Store store = Store.open(config(dir))) {
      List<NewFile> files = new ArrayList<>();
      List<CompletableFuture<WriteResult>> results = new ArrayList<>();
      for (int i = 0; i < needles; i++) {
        byte[] data = new byte[random.nextInt(3000)];
        random.nextBytes(data);
        String name = random.nextBoolean() ? null : "n" + i + "-" + Long.toHexString(random.nextLong());
        String mime = random.nextBoolean() ? null : "image/x-" + i;
        NewFile file = new NewFile(name, mime, random.nextLong(), List.of(ByteBuffer.wrap(data)));
        files.add(file);
        results.add(store.write(file));
      }
      List<CompletableFuture<Boolean>> deletes = new ArrayList<>();
      List<Boolean> deleted = new ArrayList<>();
      for (int i = 0; i < needles; i++) {
        WriteResult r = results.get(i).get();
        NewFile file = files.get(i);
        byte[] data = file.data().getFirst().array();
        boolean delete = random.nextInt(4) == 0;
        if (delete) {
          deletes.add(store.delete(r.fid()));
        }
        deleted.add(delete);
        written.add(new Written(r, file.name(), file.mime(), file.lastModified(), data, delete));
      }
      for (CompletableFuture<Boolean> d : deletes) {
        assertThat(d.get()).isTrue();
      }
    }
    return written;
  }

  /** Where each needle and tombstone lies, from the index log's documented layout. */
  private static void readLayout(Path idx, Map<Long, Range> records, Map<Long, Range> tombstones)
      throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(idx)).order(ByteOrder.LITTLE_ENDIAN);
    for (int at = 16; at + 16 <= b.limit(); at += 16) {
      long key = Integer.toUnsignedLong(b.getInt(at));
      long offset = 8 * Integer.toUnsignedLong(b.getInt(at + 4));
      int word = b.getInt(at + 8);
      if (word < 0) {
        tombstones.put(key, new Range(offset, offset + TOMBSTONE_BYTES));
      } else {
        records.put(key, new Range(offset, offset + 8L * word));
      }
    }
  }

  private static void flipByte(Path file, long at, int mask) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer one = ByteBuffer.allocate(1);
      ch.read(one, at);
      one.put(0, (byte) (one.get(0) ^ mask));
      ch.write(one.position(0), at);
    }
  }

  private static void writeAt(Path file, long at, byte[] bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) {
        ch.write(b, at + b.position());
      }
    }
  }

  private static void append(Path file, int bytes, Random random) throws IOException {
    byte[] junk = new byte[bytes];
    random.nextBytes(junk);
    Files.write(file, junk, StandardOpenOption.APPEND);
  }

  private static byte[] content(StoredFile f) {
    byte[] out = new byte[f.data().remaining()];
    f.data().duplicate().get(out);
    return out;
  }
}
