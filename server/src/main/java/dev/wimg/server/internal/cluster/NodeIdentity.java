package dev.wimg.server.internal.cluster;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Properties;
import java.util.UUID;

/**
 * Who a storage node is: an id made on its first start, its group, and its slot in the group once
 * the trackers gave it one, kept in {@value #FILE} in its data folder, so that a restarted node is
 * the same member, writes volumes of the same slot, and a folder is never opened as a member of
 * another group (its volumes' fids name their group).
 *
 * <pre>
 *   # wimg storage node
 *   node=&lt;random UUID&gt;
 *   group=&lt;1..65535&gt;
 *   slot=&lt;1..255&gt;        (absent until the trackers gave one; absent in files made before slots)
 * </pre>
 *
 * @param node  the node id
 * @param group its group
 * @param slot  its slot, or {@link #NO_SLOT}
 */
public record NodeIdentity(String node, int group, int slot) {

  /** The file's name in the data folder. */
  public static final String FILE = "node.properties";
  /** {@link #slot()} of a node that has none yet. */
  public static final int NO_SLOT = -1;

  /** Whether the trackers gave this node its slot. */
  public boolean hasSlot() {
    return slot != NO_SLOT;
  }

  /**
   * This identity with {@code granted} as its slot, written durably to {@code dataDir} before it is
   * returned (so a node never writes a volume of a slot it could forget).
   */
  public NodeIdentity withSlot(Path dataDir, int granted) throws IOException {
    NodeIdentity identity = new NodeIdentity(node, group, granted);
    identity.write(dataDir);
    return identity;
  }

  /**
   * The identity kept in {@code dataDir}, made (and written durably: temporary file, fsync,
   * rename, fsync of the folder) on the first start.
   *
   * @throws IllegalStateException when the folder belongs to another group, naming both
   * @throws IOException           when the file cannot be read or written
   */
  public static NodeIdentity load(Path dataDir, int group) throws IOException {
    Path file = dataDir.resolve(FILE);
    if (Files.exists(file)) {
      Properties p = new Properties();
      try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        p.load(in);
      }
      String node = p.getProperty("node");
      String kept = p.getProperty("group");
      if (node == null || node.isBlank() || kept == null) {
        throw new IOException(file + " is damaged: it needs node= and group= lines");
      }
      int keptGroup;
      try {
        keptGroup = Integer.parseInt(kept.strip());
      } catch (NumberFormatException e) {
        throw new IOException(file + " is damaged: group=" + kept + " is not a number", e);
      }
      int slot = NO_SLOT;
      String keptSlot = p.getProperty("slot");
      if (keptSlot != null) {
        try {
          slot = Integer.parseInt(keptSlot.strip());
        } catch (NumberFormatException e) {
          slot = Integer.MIN_VALUE;
        }
        if (slot < 0 || slot > 255) {
          throw new IOException(file + " is damaged: slot=" + keptSlot + " is not 0..255");
        }
      }
      if (keptGroup != group) {
        throw new IllegalStateException("the data folder " + dataDir + " belongs to group "
            + keptGroup + " (" + file + "), not to group " + group + ": its fids name group "
            + keptGroup + "; start it with --group " + keptGroup + " or give another --data");
      }
      return new NodeIdentity(node.strip(), keptGroup, slot);
    }
    Files.createDirectories(dataDir);
    NodeIdentity identity = new NodeIdentity(UUID.randomUUID().toString(), group, NO_SLOT);
    identity.write(dataDir);
    return identity;
  }

  /** Writes {@value #FILE}: temporary file, fsync, rename, fsync of the folder. */
  private void write(Path dataDir) throws IOException {
    Path file = dataDir.resolve(FILE);
    Path tmp = dataDir.resolve(FILE + ".tmp");
    try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      out.write("# wimg storage node\nnode=" + node + "\ngroup=" + group + "\n"
          + (hasSlot() ? "slot=" + slot + "\n" : ""));
    }
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
    try (FileChannel dir = FileChannel.open(dataDir, StandardOpenOption.READ)) {
      dir.force(true);
    }
  }
}
