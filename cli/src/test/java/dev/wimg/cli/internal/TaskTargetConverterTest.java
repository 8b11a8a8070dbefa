package dev.wimg.cli.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

class TaskTargetConverterTest {

  @Test
  void zonesGroupsAndNodesAreSentInTheFormTheTrackerReads() {
    assertThat(TaskTargetConverter.parse("zone:edge")).isEqualTo("zone:edge");
    assertThat(TaskTargetConverter.parse("Zone:Edge")).isEqualTo("zone:Edge");
    assertThat(TaskTargetConverter.parse("group:3")).isEqualTo("group:3");
    assertThat(TaskTargetConverter.parse("GROUP:007")).isEqualTo("group:7");
    assertThat(TaskTargetConverter.parse("group:65535")).isEqualTo("group:65535");
    assertThat(TaskTargetConverter.parse("node:90c4a1b2-0d6e-4f7a-9b1c-2d3e4f506172"))
        .isEqualTo("node:90c4a1b2-0d6e-4f7a-9b1c-2d3e4f506172");
    assertThat(TaskTargetConverter.parse("node:a:b")).as("a colon in the name is the name's").isEqualTo("node:a:b");
    assertThat(TaskTargetConverter.parse("zone:" + "z".repeat(256))).hasSize(5 + 256);
  }

  @Test
  void anythingElseIsRefusedNamingTheAcceptedShapes() {
    refused("bogus", "");
    refused("", "");
    refused("edge", "");
    refused("rack:1", "");
    refused(":edge", "");
    refused("zone:", " (nothing after the colon)");
    refused("node:", " (nothing after the colon)");
    refused("zone:east coast", " (a name is printable ASCII without spaces)");
    refused("node:caf\u00e9", " (a name is printable ASCII without spaces)");
    refused("zone:" + "z".repeat(257), " (longer than 256 characters)");
    refused("group:", " (a group is a number)");
    refused("group:x", " (a group is a number)");
    refused("group:-1", " (a group is a number)");
    refused("group:1234567890", " (a group is a number)");
    refused("group:0", " (no group 0)");
    refused("group:65536", " (no group 65536)");
  }

  private static void refused(String target, String why) {
    assertThatThrownBy(() -> TaskTargetConverter.parse(target)).as(target)
        .isInstanceOf(TypeConversionException.class)
        .hasMessage("'" + target + "' is not a target" + why + ": use zone:NAME, group:N (1-65535) or node:ID");
  }
}
