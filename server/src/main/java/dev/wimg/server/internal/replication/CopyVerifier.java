package dev.wimg.server.internal.replication;

import dev.wimg.protocol.ClusterView;
import dev.wimg.protocol.MemberState;
import dev.wimg.storage.Store;
import dev.wimg.storage.StoreStats;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Whether this member holds what its peers hold ({@code GET /verify}, {@code wimg verify
 * --server}): for every volume both hold, the CRC32C of the bytes they have in common, here and at
 * the peer ({@code GET /replica/<volume>/crc?to=N}). Copies are byte for byte the same by design,
 * so one flipped bit anywhere in a record shows, and so does a record one side lacks.
 */
final class CopyVerifier {

  /** One peer's copy of one volume, against this node's. */
  record PeerCopy(String url, int revision, long end, boolean same, String problem) {}

  /** One volume of this node. */
  record VolumeCheck(int id, int revision, long end, List<PeerCopy> peers) {}

  /** The answer of {@code GET /verify}. */
  record Report(boolean clean, int peersAsked, List<VolumeCheck> volumes) {}

  private final Store store;
  private final ReplicaClient client;

  CopyVerifier(Store store, ReplicaClient client) {
    this.store = store;
    this.client = client;
  }

  /** Compares every volume with every live peer's copy; blocks (reads the volumes). */
  Report verify(List<ClusterView.Member> peers) throws InterruptedException {
    List<VolumeCheck> volumes = new ArrayList<>();
    boolean clean = true;
    List<ClusterView.Member> live = peers.stream()
        .filter(m -> !m.state().equals(MemberState.DOWN.token())).toList();
    List<Map<Integer, ReplicaClient.PeerVolume>> listings = new ArrayList<>();
    for (ClusterView.Member m : live) {
      try {
        listings.add(client.volumes(URI.create(m.url())));
      } catch (IOException e) {
        listings.add(null);
        clean = false;
      }
    }
    for (StoreStats.VolumeStats v : store.stats().volumes()) {
      List<PeerCopy> copies = new ArrayList<>();
      for (int i = 0; i < live.size(); i++) {
        String url = live.get(i).url();
        Map<Integer, ReplicaClient.PeerVolume> theirs = listings.get(i);
        if (theirs == null) {
          copies.add(new PeerCopy(url, -1, -1, false, "did not answer"));
          continue;
        }
        ReplicaClient.PeerVolume copy = theirs.get(v.id());
        if (copy == null) {
          copies.add(new PeerCopy(url, -1, 0, false, "does not hold it"));
          clean = false;
          continue;
        }
        long end = copy.end();
        if (copy.revision() != v.revision()) {
          // offsets of two revisions cannot be compared; the older copy is replaced by the newer
          // at the next catch-up pass (docs/CLUSTER.md, "Vacuum")
          copies.add(new PeerCopy(url, copy.revision(), end, false, "revision " + copy.revision()
              + " there, " + v.revision() + " here"));
          clean = false;
          continue;
        }
        long common = Math.min(end, v.usedBytes());
        try {
          long here = crc(v.id(), v.revision(), common);
          long there = client.crc(URI.create(url), v.id(), v.revision(), common);
          boolean same = here == there && end == v.usedBytes();
          clean &= same;
          copies.add(new PeerCopy(url, copy.revision(), end, same, here != there
              ? "the first " + common + " bytes differ (CRC32C " + Long.toHexString(here) + " here, "
                  + Long.toHexString(there) + " there)"
              : end != v.usedBytes() ? "lengths differ" : null));
        } catch (IOException e) {
          clean = false;
          copies.add(new PeerCopy(url, copy.revision(), end, false, e.getMessage()));
        }
      }
      volumes.add(new VolumeCheck(v.id(), v.revision(), v.usedBytes(), copies));
    }
    return new Report(clean, live.size(), volumes);
  }

  /** CRC32C of this node's copy of revision {@code revision} of {@code volume}, bytes {@code [0, to)}. */
  long crc(int volume, int revision, long to) throws IOException {
    CRC32C crc = new CRC32C();
    long at = 0;
    while (at < to) {
      ByteBuffer page = store.readRecords(volume, revision, at, (int) Math.min(ReplicaHandler.MOST_READ_BYTES, to - at));
      if (page == null || !page.hasRemaining()) {
        throw new IOException("volume " + volume + " here ends at " + at + ", before " + to);
      }
      if (at + page.remaining() > to) {
        page.limit((int) (to - at));
      }
      at += page.remaining();
      crc.update(page);
    }
    return crc.getValue();
  }
}
