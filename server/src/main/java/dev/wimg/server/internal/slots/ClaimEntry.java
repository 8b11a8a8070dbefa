package dev.wimg.server.internal.slots;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A slot claim as a Raft log entry, and the state machine's answer to it. Big-endian, as
 * {@link DataOutputStream} writes.
 *
 * <pre>
 *   entry:  u8 version ({@value #VERSION_1})  u16 group  UTF node id (u16 length, modified UTF-8)
 *   answer: u8 version ({@value #VERSION_1})  u8 slot, 0 when every slot of the group is taken
 * </pre>
 *
 * @param group the group claimed in
 * @param node  the node claiming
 */
record ClaimEntry(int group, String node) {

  /** Version 1: the layout above (first version). */
  static final int VERSION_1 = 1;

  byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(8 + node.length());
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION_1);
      out.writeShort(group);
      out.writeUTF(node);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array does not fail
    }
    return bytes.toByteArray();
  }

  /**
   * Reads an entry.
   *
   * @throws IOException when the version is not {@value #VERSION_1} or the bytes end early
   */
  static ClaimEntry decode(byte[] entry) throws IOException {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(entry))) {
      checkVersion(in.readUnsignedByte(), "entry");
      return new ClaimEntry(in.readUnsignedShort(), in.readUTF());
    }
  }

  /** The answer carrying {@code slot} (0: none left). */
  static byte[] answer(int slot) {
    return new byte[] {VERSION_1, (byte) slot};
  }

  /**
   * The slot in an answer, 0 when none was left.
   *
   * @throws IOException when the answer is not version {@value #VERSION_1}
   */
  static int slotOf(byte[] answer) throws IOException {
    if (answer.length != 2) {
      throw new IOException("a slot answer has 2 bytes, got " + answer.length);
    }
    checkVersion(answer[0] & 0xff, "answer");
    return answer[1] & 0xff;
  }

  private static void checkVersion(int version, String what) throws IOException {
    if (version != VERSION_1) {
      throw new IOException("slot claim " + what + " version " + version + " is not readable; "
          + "this build reads " + VERSION_1 + ".." + VERSION_1);
    }
  }
}
