package dev.wimg.server.internal.slots;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three trackers' slot services as real Raft peers in this JVM, on loopback ports: concurrent
 * claims get distinct slots, a node claiming again gets its own, two of three agree without the
 * third, and the table outlives a restart of all three.
 */
class SlotRaftTest {

  @TempDir
  Path dir;

  private final List<String> addresses = new ArrayList<>();
  private final SlotService[] trackers = new SlotService[3];

  @AfterEach
  void stop() {
    for (SlotService t : trackers) {
      if (t != null) {
        t.close();
      }
    }
  }

  private void pickAddresses() throws IOException {
    for (int i = 0; i < 3; i++) {
      try (ServerSocket s = new ServerSocket(0)) {
        addresses.add("127.0.0.1:" + s.getLocalPort());
      }
    }
  }

  private SlotService start(int i) throws IOException {
    List<String> peers = new ArrayList<>(addresses);
    peers.remove(i);
    trackers[i] = SlotService.start(dir.resolve("t" + i), "127.0.0.1", addresses.get(i), peers);
    return trackers[i];
  }

  private static int slot(CompletableFuture<OptionalInt> claim) throws Exception {
    return claim.get(30, TimeUnit.SECONDS).orElseThrow();
  }

  @Test
  void concurrentClaimsThroughEveryTrackerGetDistinctSlotsThatSurviveFailures() throws Exception {
    pickAddresses();
    for (int i = 0; i < 3; i++) {
      start(i);
    }
    // 24 nodes of group 5 claim at once, each through one of the three trackers
    List<CompletableFuture<OptionalInt>> claims = new ArrayList<>();
    for (int n = 0; n < 24; n++) {
      claims.add(trackers[n % 3].claim(5, "node-" + n));
    }
    Map<String, Integer> slots = new HashMap<>();
    for (int n = 0; n < 24; n++) {
      slots.put("node-" + n, slot(claims.get(n)));
    }
    assertThat(slots.values()).doesNotHaveDuplicates()
        .allSatisfy(s -> assertThat(s).isBetween(1, 24));
    // the same node, through another tracker, gets the same slot
    for (int n = 0; n < 24; n += 5) {
      assertThat(slot(trackers[(n + 1) % 3].claim(5, "node-" + n))).isEqualTo(slots.get("node-" + n));
    }

    // one tracker stopped: the other two still agree
    trackers[0].close();
    trackers[0] = null;
    assertThat(slot(trackers[1].claim(5, "node-late"))).isEqualTo(25);
    assertThat(slot(trackers[2].claim(5, "node-3"))).isEqualTo(slots.get("node-3"));
    assertThat(slot(trackers[2].claim(6, "node-3"))).isEqualTo(1);

    // all stopped and started again: the table is still there, the stopped one catches up
    trackers[1].close();
    trackers[1] = null;
    trackers[2].close();
    trackers[2] = null;
    // each stopped with a snapshot of its table, which the start below reads before the log
    for (int i = 0; i < 3; i++) {
      try (Stream<Path> files = Files.walk(dir.resolve("t" + i))) {
        assertThat(files.map(p -> p.getFileName().toString()))
            .anyMatch(name -> name.startsWith("snapshot.") && !name.endsWith(".tmp"));
      }
    }
    for (int i = 0; i < 3; i++) {
      start(i);
    }
    assertThat(slot(trackers[0].claim(5, "node-late"))).isEqualTo(25);
    for (int n = 0; n < 24; n += 7) {
      assertThat(slot(trackers[n % 3].claim(5, "node-" + n))).isEqualTo(slots.get("node-" + n));
    }
    assertThat(slot(trackers[0].claim(5, "node-new"))).isEqualTo(26);
    assertThat(slot(trackers[1].claim(6, "other"))).isEqualTo(2);
  }
}
