package dev.wimg.server.internal.distribution;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds pieces on the local network without a tracker: a node asks the nodes of its LAN which of
 * some pieces (by SHA-256) they hold with one multicast {@link LanMessage} QUERY, and each node
 * that holds any and has a free upload slot answers with a unicast HAVE naming its URL. A task
 * whose trackers are all down so goes on fetching from peers rather than from the source.
 *
 * <p>Every datagram is signed with a key derived from the cluster key; one whose tag, lengths or
 * version is wrong, that was sent more than {@link #CLOCK_SKEW_MILLIS} from this node's clock,
 * whose nonce was seen within {@link #REPLAY_MILLIS}, or a HAVE to no query of this node's, is
 * dropped.
 *
 * <p>Thread-safe. One thread per socket reads datagrams.
 */
public final class LanDiscovery implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LanDiscovery.class);

  static final long CLOCK_SKEW_MILLIS = 10_000;
  static final long REPLAY_MILLIS = 20_000;

  /** How datagrams leave and arrive: UDP multicast ({@link #udp}), or an in-memory hub in tests. */
  public interface Transport extends AutoCloseable {

    /** Sends to every node of the LAN. */
    void multicast(byte[] datagram) throws IOException;

    /** Sends to one node. */
    void send(byte[] datagram, InetSocketAddress to) throws IOException;

    /** Starts handing every datagram that arrives (multicast or unicast) to {@code receiver}. */
    void start(Receiver receiver);

    /** The port unicast answers reach this node at. */
    int replyPort();

    @Override
    void close();
  }

  /** Takes an arriving datagram. */
  public interface Receiver {
    void received(byte[] bytes, int length, InetSocketAddress from);
  }

  private record Query(int hashes, Map<Integer, List<String>> holders) {}

  private final Transport transport;
  private final byte[] key;
  private final byte[] self;
  private final String url;
  private final Predicate<byte[]> holds;
  private final IntSupplier freeSlots;
  private final SecureRandom random = new SecureRandom();
  private final Map<Long, Query> queries = new ConcurrentHashMap<>();
  private final Map<Long, Long> seen = new ConcurrentHashMap<>();
  private volatile long lastDropLogMillis;

  /**
   * @param nodeId    this node's id (a UUID)
   * @param url       where peers fetch pieces from this node
   * @param holds     whether this node holds the verified piece of a SHA-256
   * @param freeSlots the piece answers this node could start now
   */
  public LanDiscovery(Transport transport, String clusterKey, String nodeId, String url, Predicate<byte[]> holds,
                      IntSupplier freeSlots) {
    this.transport = transport;
    this.key = LanMessage.macKey(clusterKey);
    UUID id = UUID.fromString(nodeId);
    this.self = ByteBuffer.allocate(16).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits())
        .array();
    this.url = url;
    this.holds = holds;
    this.freeSlots = freeSlots;
    transport.start(this::received);
  }

  /**
   * Asks the LAN who holds {@code hashes} (at most {@value LanMessage#MAX_HASHES}) and waits
   * {@code waitMillis} for answers.
   *
   * @return for each index of {@code hashes} some node holds, their URLs
   */
  public Map<Integer, List<String>> query(List<byte[]> hashes, long waitMillis) throws InterruptedException {
    long nonce = random.nextLong();
    Query query = new Query(hashes.size(), new ConcurrentHashMap<>());
    queries.put(nonce, query);
    try {
      transport.multicast(LanMessage.query(System.currentTimeMillis(), nonce, self, hashes, transport.replyPort())
          .encode(key));
      Thread.sleep(waitMillis);
      return new HashMap<>(query.holders());
    } catch (IOException e) {
      log.debug("LAN query failed: {}", e.toString());
      return Map.of();
    } finally {
      queries.remove(nonce);
    }
  }

  private void received(byte[] bytes, int length, InetSocketAddress from) {
    LanMessage m;
    try {
      m = LanMessage.decode(bytes, length, key);
    } catch (IllegalArgumentException e) {
      dropped(from, e.getMessage());
      return;
    }
    if (java.util.Arrays.equals(m.sender(), self)) {
      return; // our own query, looped back
    }
    long now = System.currentTimeMillis();
    if (Math.abs(now - m.sentAt()) > CLOCK_SKEW_MILLIS) {
      dropped(from, "sent " + (now - m.sentAt()) + " ms from this node's clock");
      return;
    }
    if (seen.putIfAbsent(m.nonce(), now) != null) {
      dropped(from, "a replay");
      return;
    }
    forgetOldNonces(now);
    if (m.type() == LanMessage.QUERY) {
      answer(m, from);
    } else {
      Query query = queries.get(m.queryNonce());
      if (query == null) {
        return; // late, or not ours
      }
      for (int i = 0; i < query.hashes(); i++) {
        if ((m.bitmap() & (1 << i)) != 0) {
          query.holders().computeIfAbsent(i, k -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(m.url());
        }
      }
    }
  }

  private void answer(LanMessage query, InetSocketAddress from) {
    int free = freeSlots.getAsInt();
    if (free <= 0) {
      return;
    }
    int bitmap = 0;
    for (int i = 0; i < query.hashes().size(); i++) {
      if (holds.test(query.hashes().get(i))) {
        bitmap |= 1 << i;
      }
    }
    if (bitmap == 0) {
      return;
    }
    try {
      transport.send(LanMessage.have(System.currentTimeMillis(), random.nextLong(), self, query.nonce(), bitmap, free,
          url).encode(key), new InetSocketAddress(from.getAddress(), query.replyPort()));
    } catch (IOException e) {
      log.debug("LAN answer to {} failed: {}", from, e.toString());
    }
  }

  private void forgetOldNonces(long now) {
    if (seen.size() < 1024) {
      return;
    }
    for (Iterator<Long> it = seen.values().iterator(); it.hasNext(); ) {
      if (now - it.next() > REPLAY_MILLIS) {
        it.remove();
      }
    }
  }

  private void dropped(InetSocketAddress from, String why) {
    long now = System.currentTimeMillis();
    if (now - lastDropLogMillis > 60_000) {
      lastDropLogMillis = now;
      log.warn("LAN datagram from {} dropped: {} (such drops are logged once a minute)", from, why);
    }
  }

  @Override
  public void close() {
    transport.close();
  }

  /**
   * UDP: queries go to {@code group} on the interface of {@code bindAddress} (TTL 1, not looped
   * back), answers to the querier's own unicast socket.
   *
   * @throws IOException when the sockets cannot be opened or the group joined
   */
  public static Transport udp(InetAddress bindAddress, InetSocketAddress group) throws IOException {
    NetworkInterface nic = NetworkInterface.getByInetAddress(bindAddress);
    if (nic == null) {
      throw new IOException("no network interface has the address " + bindAddress.getHostAddress());
    }
    DatagramChannel listen = DatagramChannel.open(StandardProtocolFamily.INET)
        .setOption(StandardSocketOptions.SO_REUSEADDR, true)
        .bind(new InetSocketAddress(group.getPort()));
    DatagramChannel unicast;
    try {
      listen.join(group.getAddress(), nic);
      unicast = DatagramChannel.open(StandardProtocolFamily.INET)
          .setOption(StandardSocketOptions.IP_MULTICAST_IF, nic)
          .setOption(StandardSocketOptions.IP_MULTICAST_TTL, 1)
          .setOption(StandardSocketOptions.IP_MULTICAST_LOOP, false)
          .bind(new InetSocketAddress(bindAddress, 0));
    } catch (IOException | RuntimeException e) {
      listen.close();
      throw e;
    }
    return new Transport() {
      private final List<Thread> readers = new ArrayList<>();

      @Override
      public void multicast(byte[] datagram) throws IOException {
        unicast.send(ByteBuffer.wrap(datagram), group);
      }

      @Override
      public void send(byte[] datagram, InetSocketAddress to) throws IOException {
        unicast.send(ByteBuffer.wrap(datagram), to);
      }

      @Override
      public void start(Receiver receiver) {
        for (DatagramChannel channel : List.of(listen, unicast)) {
          readers.add(Thread.ofPlatform().daemon().name("wimg-lan").start(() -> {
            ByteBuffer buffer = ByteBuffer.allocate(2048);
            while (channel.isOpen()) {
              try {
                buffer.clear();
                InetSocketAddress from = (InetSocketAddress) channel.receive(buffer);
                receiver.received(buffer.array(), buffer.position(), from);
              } catch (ClosedChannelException e) {
                return;
              } catch (IOException | RuntimeException e) {
                log.debug("LAN receive failed: {}", e.toString());
              }
            }
          }));
        }
      }

      @Override
      public int replyPort() {
        return ((InetSocketAddress) unicast.socket().getLocalSocketAddress()).getPort();
      }

      @Override
      public void close() {
        try {
          listen.close();
          unicast.close();
        } catch (IOException e) {
          log.debug("closing the LAN sockets: {}", e.toString());
        }
      }
    };
  }
}
