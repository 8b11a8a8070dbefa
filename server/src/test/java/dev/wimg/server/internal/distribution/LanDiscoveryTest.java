package dev.wimg.server.internal.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * LAN discovery over an in-memory hub that delivers each datagram as UDP would: a query reaches
 * every other node, an answer the querier. Nodes that hold a piece answer with their URL; nodes of
 * another cluster (another key) are not heard; a datagram replayed, damaged, stale or to no query
 * is dropped.
 */
class LanDiscoveryTest {

  private static final byte[] A = hash(1);
  private static final byte[] B = hash(2);
  private static final byte[] C = hash(3);

  /** Every node's transport, by port. */
  private static final class Hub {
    final List<HubTransport> nodes = new CopyOnWriteArrayList<>();
    final List<byte[]> sent = new CopyOnWriteArrayList<>();

    HubTransport join() {
      HubTransport t = new HubTransport(this, 40_000 + nodes.size());
      nodes.add(t);
      return t;
    }
  }

  private static final class HubTransport implements LanDiscovery.Transport {
    final Hub hub;
    final int port;
    LanDiscovery.Receiver receiver;

    HubTransport(Hub hub, int port) {
      this.hub = hub;
      this.port = port;
    }

    @Override
    public void multicast(byte[] datagram) {
      hub.sent.add(datagram);
      for (HubTransport t : hub.nodes) {
        if (t != this) {
          t.receiver.received(datagram.clone(), datagram.length, new InetSocketAddress("127.0.0.1", port));
        }
      }
    }

    @Override
    public void send(byte[] datagram, InetSocketAddress to) {
      hub.sent.add(datagram);
      for (HubTransport t : hub.nodes) {
        if (t.port == to.getPort()) {
          t.receiver.received(datagram.clone(), datagram.length, new InetSocketAddress("127.0.0.1", port));
        }
      }
    }

    @Override
    public void start(LanDiscovery.Receiver r) {
      this.receiver = r;
    }

    @Override
    public int replyPort() {
      return port;
    }

    @Override
    public void close() {
    }
  }

  @Test
  void nodesThatHoldAPieceAnswerWithTheirUrl() throws Exception {
    Hub hub = new Hub();
    LanDiscovery asking = node(hub, "key", "http://asking", List.of());
    node(hub, "key", "http://one", List.of(A));
    node(hub, "key", "http://two", List.of(A, C));
    node(hub, "other-cluster", "http://stranger", List.of(A, B, C));
    Map<Integer, List<String>> holders = asking.query(List.of(A, B, C), 50);
    assertThat(holders).containsOnlyKeys(0, 2);
    assertThat(holders.get(0)).containsExactlyInAnyOrder("http://one", "http://two");
    assertThat(holders.get(2)).containsExactly("http://two");
  }

  @Test
  void replayedDamagedAndStaleDatagramsAreDropped() throws Exception {
    Hub hub = new Hub();
    List<String> answers = new ArrayList<>();
    LanDiscovery holder = node(hub, "key", "http://holder", List.of(A));
    HubTransport listener = hub.join();
    listener.start((bytes, length, from) -> answers.add(new String(bytes, 0, 4)));
    byte[] key = LanMessage.macKey("key");
    byte[] sender = new byte[16];
    byte[] query = LanMessage.query(System.currentTimeMillis(), 7, sender, List.of(A), listener.port).encode(key);
    listener.multicast(query);
    assertThat(answers).as("an answer to a fresh query").hasSize(1);
    listener.multicast(query);
    assertThat(answers).as("none to its replay").hasSize(1);
    byte[] damaged = LanMessage.query(System.currentTimeMillis(), 8, sender, List.of(A), listener.port).encode(key);
    damaged[45] ^= 1;
    listener.multicast(damaged);
    byte[] stale = LanMessage.query(System.currentTimeMillis() - 60_000, 9, sender, List.of(A), listener.port)
        .encode(key);
    listener.multicast(stale);
    assertThat(answers).as("none to a damaged or stale query").hasSize(1);
    assertThat(holder).isNotNull();
  }

  @Test
  void theCodecRefusesWhatItCannotRead() {
    byte[] key = LanMessage.macKey("key");
    byte[] have = LanMessage.have(1, 2, new byte[16], 3, 0b101, 4, "http://10.78.0.12:8080").encode(key);
    LanMessage back = LanMessage.decode(have, have.length, key);
    assertThat(back.url()).isEqualTo("http://10.78.0.12:8080");
    assertThat(back.bitmap()).isEqualTo(0b101);
    assertThat(back.queryNonce()).isEqualTo(3);
    for (int cut = 0; cut < have.length; cut++) {
      int n = cut;
      assertThatThrownBy(() -> LanMessage.decode(have, n, key)).isInstanceOf(IllegalArgumentException.class);
    }
    for (int bit = 0; bit < have.length * 8; bit++) {
      byte[] flipped = have.clone();
      flipped[bit / 8] ^= (byte) (1 << (bit % 8));
      assertThatThrownBy(() -> LanMessage.decode(flipped, flipped.length, key))
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> LanMessage.decode(have, have.length, LanMessage.macKey("other")))
        .hasMessageContaining("tag is wrong");
    byte[] query = LanMessage.query(1, 2, new byte[16], List.of(A, B), 9).encode(key);
    assertThat(query.length).isEqualTo(40 + 4 + 64 + 16);
    assertThat(LanMessage.decode(query, query.length, key).hashes()).hasSize(2);
  }

  private static LanDiscovery node(Hub hub, String clusterKey, String url, List<byte[]> held) {
    return new LanDiscovery(hub.join(), clusterKey, UUID.randomUUID().toString(), url,
        hash -> held.stream().anyMatch(h -> java.util.Arrays.equals(h, hash)), () -> 4);
  }

  private static byte[] hash(int seed) {
    byte[] h = new byte[32];
    java.util.Arrays.fill(h, (byte) seed);
    return h;
  }
}
