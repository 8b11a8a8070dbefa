package dev.wimg.server.internal.slots;

import dev.wimg.protocol.SlotGrant;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * The slot table: group → node id → slot. Slots {@value SlotGrant#MIN_GRANTED}..{@value
 * SlotGrant#MAX_SLOT} are handed out per group in order, each once; slot 0 is never handed out (it
 * is the all-in-one server's and every folder's made before slots). A node that claims again gets
 * the slot it has.
 *
 * <p>The table changes only by {@link #claim}, applied in the Raft log's order on every tracker,
 * so every tracker's table is the same after the same entries. Not thread-safe: the state machine
 * applies entries one at a time and guards reads.
 *
 * <p>Snapshot format ({@link #writeTo}), big-endian as {@link DataOutputStream} writes:
 *
 * <pre>
 *   u8    version ({@value #SNAPSHOT_VERSION_1})
 *   u32   number of entries
 *   then per entry, in group then node order:
 *   u16   group
 *   UTF   node id (modified UTF-8 with a u16 length)
 *   u8    slot
 * </pre>
 */
public final class SlotTable {

  /** Snapshot format 1: the table above (first version). */
  static final int SNAPSHOT_VERSION_1 = 1;

  private final TreeMap<Integer, TreeMap<String, Integer>> groups = new TreeMap<>();

  /**
   * The slot of {@code node} in {@code group}: the one it has, else the next free one.
   *
   * @return the slot, or empty when every slot of the group is taken by other nodes
   */
  public OptionalInt claim(int group, String node) {
    TreeMap<String, Integer> members = groups.computeIfAbsent(group, g -> new TreeMap<>());
    Integer slot = members.get(node);
    if (slot != null) {
      return OptionalInt.of(slot);
    }
    int next = SlotGrant.MIN_GRANTED + members.size();
    if (next > SlotGrant.MAX_SLOT) {
      return OptionalInt.empty();
    }
    members.put(node, next);
    return OptionalInt.of(next);
  }

  /** The slot {@code node} has in {@code group}, if any. */
  public OptionalInt slotOf(int group, String node) {
    Integer slot = groups.getOrDefault(group, new TreeMap<>()).get(node);
    return slot == null ? OptionalInt.empty() : OptionalInt.of(slot);
  }

  /** A copy of the table: group → node → slot. */
  public Map<Integer, Map<String, Integer>> copy() {
    TreeMap<Integer, Map<String, Integer>> copy = new TreeMap<>();
    groups.forEach((g, members) -> copy.put(g, Map.copyOf(members)));
    return copy;
  }

  /** Writes the table in the snapshot format above. */
  public void writeTo(DataOutputStream out) throws IOException {
    out.writeByte(SNAPSHOT_VERSION_1);
    out.writeInt(groups.values().stream().mapToInt(Map::size).sum());
    for (var group : groups.entrySet()) {
      for (var member : group.getValue().entrySet()) {
        out.writeShort(group.getKey());
        out.writeUTF(member.getKey());
        out.writeByte(member.getValue());
      }
    }
  }

  /**
   * Replaces the table with one written by {@link #writeTo}.
   *
   * @throws IOException when the version is not {@value #SNAPSHOT_VERSION_1} or the bytes end early
   */
  public void readFrom(DataInputStream in) throws IOException {
    int version = in.readUnsignedByte();
    if (version != SNAPSHOT_VERSION_1) {
      throw new IOException("slot table snapshot version " + version + " is not readable; this "
          + "build reads " + SNAPSHOT_VERSION_1 + ".." + SNAPSHOT_VERSION_1);
    }
    int entries = in.readInt();
    groups.clear();
    for (int i = 0; i < entries; i++) {
      int group = in.readUnsignedShort();
      String node = in.readUTF();
      int slot = in.readUnsignedByte();
      groups.computeIfAbsent(group, g -> new TreeMap<>()).put(node, slot);
    }
  }
}
