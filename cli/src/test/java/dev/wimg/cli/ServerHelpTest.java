package dev.wimg.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code wimg server --help} shows built-in defaults, whatever the environment says. */
class ServerHelpTest {

  @TempDir Path cwd;

  @Test
  void helpShowsBuiltInDefaultsAndNamesEachVariableApart() {
    Map<String, String> env = Map.of("WIMG_PORT", "4711", "WIMG_BIND", "10.9.9.9", "WIMG_DATA", "/elsewhere",
        "WIMG_FSYNC", "never", "WIMG_PRESETS_ONLY", "true", "WIMG_TRANSFORM_QUEUE", "77");
    CliRun r = CliRun.run(env, cwd, "server", "--help");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.out())
        .contains("Default: 9333\n", "Environment: WIMG_PORT.\n")
        .contains("Default: 127.0.0.1\n", "Environment: WIMG_BIND.\n")
        .contains("Default: wimg-data\n", "Environment: WIMG_DATA.\n")
        .contains("Default: always\n", "Environment: WIMG_FSYNC.\n")
        .contains("Default: false\n", "Environment: WIMG_PRESETS_ONLY.\n")
        .contains("Environment: WIMG_TRANSFORM_QUEUE.\n")
        .doesNotContain("4711", "10.9.9.9", "/elsewhere", "never\n", "77");
  }
}
