package dev.wimg.storage.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names of a volume's files in the data folder: {@code <group>-<volume>.dat} and
 * {@code <group>-<volume>.idx}, plus the {@code .compact} pair a vacuum writes before its swap and
 * the {@code .dat.creating} a new volume has until its superblock is durable.
 */
public record VolumeFiles(Path dir, int group, int volume) {

  /** Matches a volume data file name; group 1, volume 2. */
  public static final Pattern DAT_NAME = Pattern.compile("([1-9][0-9]{0,4})-([1-9][0-9]{0,7})\\.dat");
  /** Suffix of the files a vacuum writes before it swaps them in. */
  public static final String COMPACT_SUFFIX = ".compact";
  /** Suffix of a {@code .dat} being created, renamed to its name once its superblock is durable. */
  public static final String CREATING_SUFFIX = ".creating";

  public Path dat() {
    return dir.resolve(group + "-" + volume + ".dat");
  }

  public Path idx() {
    return dir.resolve(group + "-" + volume + ".idx");
  }

  public Path compactDat() {
    return dir.resolve(group + "-" + volume + ".dat" + COMPACT_SUFFIX);
  }

  /** Where {@link VolumeLoader#create} writes the superblock before renaming it to {@link #dat}. */
  public Path creatingDat() {
    return dir.resolve(group + "-" + volume + ".dat" + CREATING_SUFFIX);
  }

  public Path compactIdx() {
    return dir.resolve(group + "-" + volume + ".idx" + COMPACT_SUFFIX);
  }

  /** The files of a {@code .dat} name, or null if the name is not one. */
  public static VolumeFiles parse(Path dir, String fileName) {
    Matcher m = DAT_NAME.matcher(fileName);
    if (!m.matches()) {
      return null;
    }
    return new VolumeFiles(dir, Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
  }

  /** Forces a folder's entries (renames, creations) to disk. */
  public static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
