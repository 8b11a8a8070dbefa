package dev.wimg.server.internal.slots;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.netty.NettyConfigKeys;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A tracker's part of the slot table: a Raft server (Apache Ratis over its Netty transport) whose
 * group is every tracker, each named by its Raft address {@code host:port}, and a Raft client that
 * sends this tracker's claims to the group's leader. A claim is answered once a majority of the
 * trackers hold it in their logs; without a majority it fails within {@link #CLAIM_TIMEOUT}.
 *
 * <p>Every tracker must be given the same set of addresses (its own and its peers'): the Raft
 * group is that set, and its id is fixed ({@link #GROUP_ID}), so trackers of one cluster find each
 * other and a folder of another cluster's group is not taken for this one.
 */
public final class SlotService implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SlotService.class);

  /** The Raft group of every WIMG tracker's slot table. */
  static final RaftGroupId GROUP_ID = RaftGroupId.valueOf(
      UUID.nameUUIDFromBytes("wimg slot table".getBytes(StandardCharsets.US_ASCII)));
  /** Longest a claim waits for a majority before it fails. */
  public static final Duration CLAIM_TIMEOUT = Duration.ofSeconds(5);
  /** Longest one request of the Raft client to one tracker waits for its answer. */
  private static final TimeDuration REQUEST_TIMEOUT = TimeDuration.valueOf(1, TimeUnit.SECONDS);
  /** Pause between attempts of the Raft client (another tracker, a leader being elected). */
  private static final TimeDuration CLIENT_RETRY_SLEEP =
      TimeDuration.valueOf(200, TimeUnit.MILLISECONDS);
  /** Attempts of the Raft client before a claim fails: about {@link #CLAIM_TIMEOUT}'s worth. */
  private static final int CLIENT_ATTEMPTS =
      (int) (CLAIM_TIMEOUT.toMillis() / CLIENT_RETRY_SLEEP.toLong(TimeUnit.MILLISECONDS));
  /** Log entries between automatic snapshots of the table. */
  private static final long SNAPSHOT_EVERY = 1024;
  /** Threads that wait on the Raft client; claims are rare (once per member ever). */
  private static final int CLAIM_THREADS = 4;

  private final RaftServer server;
  private final RaftProperties properties;
  private final RaftGroup raftGroup;
  private final SlotStateMachine machine;
  private final ExecutorService claims;

  private SlotService(RaftServer server, RaftProperties properties, RaftGroup group,
                      SlotStateMachine machine) {
    this.server = server;
    this.properties = properties;
    this.raftGroup = group;
    this.machine = machine;
    this.claims = Executors.newFixedThreadPool(CLAIM_THREADS,
        Thread.ofPlatform().daemon().name("wimg-slot-claim-", 0).factory());
  }

  /**
   * Starts this tracker's Raft server over {@code dataDir} (created if missing; its log and
   * snapshots are kept there) and returns at once; the group elects a leader when a majority runs.
   *
   * @param self  this tracker's Raft address, {@code host:port}; it listens on {@code bind} and
   *              that port
   * @param peers the other trackers' Raft addresses
   * @throws IOException when the folder cannot be used or the port not bound
   */
  public static SlotService start(Path dataDir, String bind, String self, List<String> peers)
      throws IOException {
    List<RaftPeer> members = new ArrayList<>();
    members.add(peer(self));
    for (String p : peers) {
      if (!p.equals(self)) {
        members.add(peer(p));
      }
    }
    RaftGroup group = RaftGroup.valueOf(GROUP_ID, members);
    RaftProperties properties = new RaftProperties();
    RaftConfigKeys.Rpc.setType(properties, SupportedRpcType.NETTY);
    NettyConfigKeys.Server.setHost(properties, bind);
    NettyConfigKeys.Server.setPort(properties, port(self));
    Files.createDirectories(dataDir);
    RaftServerConfigKeys.setStorageDir(properties, List.of(dataDir.toFile()));
    // A snapshot every SNAPSHOT_EVERY entries and at every stop that has something new (Ratis
    // takes the one at stop only while automatic snapshots are on), so that a start replays a
    // short log and the log's older segments can be purged.
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(properties, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(properties, SNAPSHOT_EVERY);
    RaftServerConfigKeys.Snapshot.setTriggerWhenStopEnabled(properties, true);
    RaftServerConfigKeys.Snapshot.setCreationGap(properties, 1);
    RaftClientConfigKeys.Rpc.setRequestTimeout(properties, REQUEST_TIMEOUT);
    SlotStateMachine machine = new SlotStateMachine();
    RaftServer server = RaftServer.newBuilder()
        .setServerId(members.getFirst().getId())
        .setGroup(group)
        .setStateMachine(machine)
        .setProperties(properties)
        .setOption(RaftStorage.StartupOption.RECOVER)
        .build();
    try {
      server.start();
    } catch (IOException | RuntimeException e) {
      try {
        server.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    LOG.info("slot table: Raft member {} of {} (log in {})", self, members.stream()
        .map(m -> m.getAddress()).toList(), dataDir);
    return new SlotService(server, properties, group, machine);
  }

  private static RaftPeer peer(String address) {
    port(address);
    return RaftPeer.newBuilder().setId(RaftPeerId.valueOf(address.replace(':', '_')))
        .setAddress(address).build();
  }

  /**
   * The port of {@code host:port}.
   *
   * @throws IllegalArgumentException when it is not {@code host:port} with a port 1..65535
   */
  static int port(String address) {
    int colon = address.lastIndexOf(':');
    int port;
    try {
      port = colon < 1 ? -1 : Integer.parseInt(address.substring(colon + 1));
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException("a Raft address must be host:port with a port "
          + "1..65535, got \"" + address + "\"");
    }
    return port;
  }

  /**
   * Claims the slot of {@code node} in {@code group}: the one it has, else the next free one.
   * Completes with the slot, or empty when the group has none left; completes exceptionally with
   * {@link NoMajorityException} when no majority of the trackers answered in time.
   */
  public CompletableFuture<OptionalInt> claim(int group, String node) {
    byte[] entry = new ClaimEntry(group, node).encode();
    return CompletableFuture.supplyAsync(() -> {
      RaftClientReply reply;
      // A client per claim (claims are rare): a Ratis client that ran out of attempts stays closed.
      try (RaftClient client = RaftClient.newBuilder()
          .setProperties(properties)
          .setRaftGroup(raftGroup)
          .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(CLIENT_ATTEMPTS,
              CLIENT_RETRY_SLEEP))
          .build()) {
        reply = client.io().send(Message.valueOf(ByteString.copyFrom(entry)));
      } catch (IOException e) {
        throw new NoMajorityException("no majority of the trackers answered: " + e, e);
      }
      if (!reply.isSuccess()) {
        throw new NoMajorityException("the trackers did not agree: " + reply.getException(),
            reply.getException());
      }
      try {
        int slot = ClaimEntry.slotOf(reply.getMessage().getContent().toByteArray());
        return slot == 0 ? OptionalInt.empty() : OptionalInt.of(slot);
      } catch (IOException e) {
        throw new IllegalStateException("unreadable slot answer", e);
      }
    }, claims).orTimeout(CLAIM_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .exceptionallyCompose(failure -> CompletableFuture.failedFuture(
            failure instanceof java.util.concurrent.TimeoutException
                ? new NoMajorityException("no majority of the trackers answered within "
                    + CLAIM_TIMEOUT.toMillis() + " ms", failure)
                : failure instanceof java.util.concurrent.CompletionException c
                    && c.getCause() != null ? c.getCause() : failure));
  }

  /** The table as this tracker has applied it so far: group → node → slot. */
  public Map<Integer, Map<String, Integer>> table() {
    return machine.copy();
  }

  @Override
  public void close() {
    claims.shutdownNow();
    try {
      server.close();
    } catch (IOException e) {
      LOG.warn("closing the slot table's Raft server failed", e);
    }
  }

  /** No majority of the trackers answered a claim in time: the claim may be asked again. */
  public static final class NoMajorityException extends RuntimeException {
    NoMajorityException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
