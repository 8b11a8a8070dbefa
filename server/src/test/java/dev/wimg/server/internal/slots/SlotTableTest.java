package dev.wimg.server.internal.slots;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The slot table's rules, and its snapshot and log entry formats. */
class SlotTableTest {

  @Test
  void slotsAreHandedOutFromOneInOrderPerGroup() {
    SlotTable table = new SlotTable();
    assertThat(table.claim(1, "a")).hasValue(1);
    assertThat(table.claim(1, "b")).hasValue(2);
    assertThat(table.claim(2, "a")).hasValue(1);
    assertThat(table.claim(1, "c")).hasValue(3);
    assertThat(table.slotOf(2, "b")).isEmpty();
  }

  @Test
  void aNodeThatClaimsAgainGetsTheSlotItHas() {
    SlotTable table = new SlotTable();
    table.claim(7, "a");
    table.claim(7, "b");
    assertThat(table.claim(7, "a")).hasValue(1);
    assertThat(table.claim(7, "b")).hasValue(2);
    assertThat(table.claim(7, "c")).hasValue(3);
  }

  @Test
  void aGroupHas255SlotsThenNoneLeftButItsMembersKeepTheirs() {
    SlotTable table = new SlotTable();
    for (int i = 1; i <= 255; i++) {
      assertThat(table.claim(1, "n" + i)).hasValue(i);
    }
    assertThat(table.claim(1, "late")).isEqualTo(OptionalInt.empty());
    assertThat(table.claim(1, "n255")).hasValue(255);
    assertThat(table.claim(2, "late")).hasValue(1);
  }

  @Test
  void aSnapshotReadsBackAsTheSameTable() throws IOException {
    SlotTable table = new SlotTable();
    table.claim(1, "a");
    table.claim(1, "b");
    table.claim(65_535, "z");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    table.writeTo(new DataOutputStream(bytes));
    SlotTable read = new SlotTable();
    read.claim(3, "gone");
    read.readFrom(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
    assertThat(read.copy()).isEqualTo(table.copy());
    // and it goes on where the table was
    assertThat(read.claim(1, "c")).hasValue(3);

    byte[] future = bytes.toByteArray();
    future[0] = 2;
    assertThatThrownBy(() -> new SlotTable().readFrom(
        new DataInputStream(new ByteArrayInputStream(future))))
        .isInstanceOf(IOException.class)
        .hasMessage("slot table snapshot version 2 is not readable; this build reads 1..1");
  }

  @Test
  void aClaimEntryAndItsAnswerRoundTrip() throws IOException {
    ClaimEntry entry = new ClaimEntry(65_535, "90c4-node");
    assertThat(ClaimEntry.decode(entry.encode())).isEqualTo(entry);
    assertThat(ClaimEntry.slotOf(ClaimEntry.answer(255))).isEqualTo(255);
    byte[] bad = entry.encode();
    bad[0] = 9;
    assertThatThrownBy(() -> ClaimEntry.decode(bad)).isInstanceOf(IOException.class)
        .hasMessage("slot claim entry version 9 is not readable; this build reads 1..1");
  }
}
