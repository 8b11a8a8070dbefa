package dev.wimg.server.internal.distribution;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A datagram of LAN discovery ({@link LanDiscovery}): a node that no tracker answers asks the
 * nodes of its network which of some pieces they hold (QUERY, multicast), and those that hold any
 * answer (HAVE, unicast). Little-endian:
 *
 * <pre>
 * offset size type  field
 * 0      4    u8[]  magic: ASCII "WLAN"
 * 4      1    u8    version (1); others are dropped
 * 5      1    u8    type: 1 QUERY, 2 HAVE
 * 6      2    u16   body length B
 * 8      8    u64   sent at, epoch ms
 * 16     8    u64   nonce, random
 * 24     16   u8[]  sender: its node id (a UUID) as 16 bytes
 * 40     B          body, by type (below)
 * 40+B   16   u8[]  HMAC-SHA256 of bytes [0, 40+B), truncated to 16 bytes
 *
 * QUERY body: u8 count N (1..32), u8 reserved (0), u16 reply port, N x 32-byte SHA-256
 * HAVE body:  u64 the query's nonce, u32 bitmap (bit i: the sender holds hash i of the query,
 *             verified), u8 free upload slots, u8 URL length U (1..128), U bytes of URL (ASCII)
 * </pre>
 *
 * <p>The HMAC key is HMAC-SHA256(cluster key, "wimg-lan-1"), so that the cluster key itself is no
 * other protocol's MAC key. A QUERY is at most 1,084 bytes, under IPv6's minimum MTU.
 *
 * @param type   {@link #QUERY} or {@link #HAVE}
 * @param sentAt epoch ms
 * @param sender the sender's node id, 16 bytes
 * @param hashes a QUERY's hashes (32 bytes each); empty for a HAVE
 * @param replyPort a QUERY's port for answers
 * @param queryNonce a HAVE's query
 * @param bitmap a HAVE's bitmap
 * @param freeSlots a HAVE's free upload slots
 * @param url a HAVE's URL
 */
record LanMessage(int type, long sentAt, long nonce, byte[] sender, List<byte[]> hashes, int replyPort,
                  long queryNonce, int bitmap, int freeSlots, String url) {

  static final int QUERY = 1;
  static final int HAVE = 2;
  static final int VERSION = 1;
  static final int MAX_HASHES = 32;
  static final int MAX_URL = 128;
  private static final byte[] MAGIC = {'W', 'L', 'A', 'N'};
  private static final int HEAD = 40;
  private static final int TAG = 16;

  static LanMessage query(long sentAt, long nonce, byte[] sender, List<byte[]> hashes, int replyPort) {
    return new LanMessage(QUERY, sentAt, nonce, sender, List.copyOf(hashes), replyPort, 0, 0, 0, null);
  }

  static LanMessage have(long sentAt, long nonce, byte[] sender, long queryNonce, int bitmap, int freeSlots,
                         String url) {
    return new LanMessage(HAVE, sentAt, nonce, sender, List.of(), 0, queryNonce, bitmap, freeSlots, url);
  }

  /** The key messages are signed with, from the cluster key. */
  static byte[] macKey(String clusterKey) {
    return hmac(clusterKey.getBytes(StandardCharsets.UTF_8), "wimg-lan-1".getBytes(StandardCharsets.US_ASCII));
  }

  /** The message's bytes, signed with {@code key}. */
  byte[] encode(byte[] key) {
    byte[] urlBytes = url == null ? new byte[0] : url.getBytes(StandardCharsets.US_ASCII);
    int body = type == QUERY ? 4 + 32 * hashes.size() : 8 + 4 + 1 + 1 + urlBytes.length;
    if (type == QUERY && (hashes.isEmpty() || hashes.size() > MAX_HASHES)) {
      throw new IllegalArgumentException("a query asks for 1.." + MAX_HASHES + " hashes, got " + hashes.size());
    }
    if (type == HAVE && (urlBytes.length == 0 || urlBytes.length > MAX_URL)) {
      throw new IllegalArgumentException("a URL of 1.." + MAX_URL + " bytes, got " + urlBytes.length);
    }
    ByteBuffer b = ByteBuffer.allocate(HEAD + body + TAG).order(ByteOrder.LITTLE_ENDIAN);
    b.put(MAGIC).put((byte) VERSION).put((byte) type).putShort((short) body).putLong(sentAt).putLong(nonce)
        .put(sender, 0, 16);
    if (type == QUERY) {
      b.put((byte) hashes.size()).put((byte) 0).putShort((short) replyPort);
      hashes.forEach(b::put);
    } else {
      b.putLong(queryNonce).putInt(bitmap).put((byte) Math.min(255, freeSlots)).put((byte) urlBytes.length)
          .put(urlBytes);
    }
    byte[] tag = hmac(key, java.util.Arrays.copyOf(b.array(), HEAD + body));
    b.put(tag, 0, TAG);
    return b.array();
  }

  /**
   * Decodes and checks a datagram.
   *
   * @throws IllegalArgumentException naming the first check it fails: length, magic, version,
   *     type, body, tag
   */
  static LanMessage decode(byte[] bytes, int length, byte[] key) {
    if (length < HEAD + TAG) {
      throw new IllegalArgumentException("a datagram of " + length + " bytes is too short");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes, 0, length).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < MAGIC.length; i++) {
      if (b.get(i) != MAGIC[i]) {
        throw new IllegalArgumentException("no WLAN magic");
      }
    }
    int version = Byte.toUnsignedInt(b.get(4));
    if (version != VERSION) {
      throw new IllegalArgumentException("version " + version + " is not read here; this build reads " + VERSION);
    }
    int type = b.get(5);
    int body = Short.toUnsignedInt(b.getShort(6));
    if (HEAD + body + TAG != length) {
      throw new IllegalArgumentException("a body of " + body + " bytes in a datagram of " + length);
    }
    byte[] tag = hmac(key, java.util.Arrays.copyOf(bytes, HEAD + body));
    if (!MessageDigest.isEqual(java.util.Arrays.copyOf(tag, TAG), java.util.Arrays.copyOfRange(bytes, HEAD + body,
        length))) {
      throw new IllegalArgumentException("the tag is wrong: another cluster's key, or damage");
    }
    long sentAt = b.getLong(8);
    long nonce = b.getLong(16);
    byte[] sender = java.util.Arrays.copyOfRange(bytes, 24, 40);
    if (type == QUERY) {
      int count = Byte.toUnsignedInt(b.get(HEAD));
      if (count < 1 || count > MAX_HASHES || body != 4 + 32 * count) {
        throw new IllegalArgumentException("a query of " + count + " hashes in " + body + " bytes");
      }
      int replyPort = Short.toUnsignedInt(b.getShort(HEAD + 2));
      List<byte[]> hashes = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        hashes.add(java.util.Arrays.copyOfRange(bytes, HEAD + 4 + 32 * i, HEAD + 4 + 32 * (i + 1)));
      }
      return query(sentAt, nonce, sender, hashes, replyPort);
    }
    if (type == HAVE) {
      if (body < 15) {
        throw new IllegalArgumentException("a have of " + body + " bytes");
      }
      int urlLength = Byte.toUnsignedInt(b.get(HEAD + 13));
      if (urlLength < 1 || urlLength > MAX_URL || body != 14 + urlLength) {
        throw new IllegalArgumentException("a have's URL of " + urlLength + " bytes in " + body);
      }
      String url = new String(bytes, HEAD + 14, urlLength, StandardCharsets.US_ASCII);
      return have(sentAt, nonce, sender, b.getLong(HEAD), b.getInt(HEAD + 8), Byte.toUnsignedInt(b.get(HEAD + 12)),
          url);
    }
    throw new IllegalArgumentException("unknown type " + type);
  }

  private static byte[] hmac(byte[] key, byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data);
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("every Java platform has HmacSHA256", e);
    }
  }
}
