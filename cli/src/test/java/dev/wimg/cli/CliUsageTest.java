package dev.wimg.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line without a running server: help, usage errors, where settings come from, and
 * what happens when the server cannot be reached.
 */
class CliUsageTest {

  @TempDir Path cwd;
  private Path file;

  @BeforeEach
  void aFileToUpload() throws IOException {
    file = Files.writeString(cwd.resolve("hello.txt"), "hello");
  }

  @Test
  void helpListsCommandsAndExitCodes() {
    CliRun r = CliRun.run(Map.of(), cwd, "--help");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out())
        .contains("server", "upload", "download", "rm", "verify", "status", "distribute", "tasks")
        .contains("Exit codes:")
        .contains("  2   USAGE: ", "  4   NOT_FOUND: ", "  6   UNREACHABLE: ", "  7   CORRUPT: ", "  9   TASK_FAILED: ")
        .contains("WIMG_PORT");
    assertThat(r.stderr()).isEmpty();
  }

  @Test
  void everySubcommandHasHelpWithExitCodes() {
    for (String command : new String[] {"server", "upload", "download", "rm", "verify", "status", "distribute",
        "tasks"}) {
      CliRun r = CliRun.run(Map.of(), cwd, command, "--help");
      assertThat(r.exitCode()).as(command).isZero();
      assertThat(r.out()).as(command).startsWith("Usage: wimg " + command).contains("Exit codes:");
    }
  }

  @Test
  void versionNamesTheBuild() {
    CliRun r = CliRun.run(Map.of(), cwd, "--version");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).matches("wimg \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\nJava .*\n");
  }

  @Test
  void noCommandIsAUsageError() {
    CliRun r = CliRun.run(Map.of(), cwd);
    assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE.code());
    assertThat(r.stderr()).startsWith(
        "wimg: missing command: choose one of server, tracker, storage, upload, download, rm, verify,"
            + " status, distribute, tasks, help\n"
            + "Usage: wimg ");
    assertThat(r.stdout()).isEmpty();
  }

  @Test
  void misspelledCommandSuggestsTheRightOne() {
    CliRun r = CliRun.run(Map.of(), cwd, "uplod", "x");
    assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE.code());
    assertThat(r.stderr()).contains("Did you mean: wimg upload");
  }

  @Test
  void uploadWithoutFileIsAUsageErrorWithSynopsis() {
    CliRun r = CliRun.run(Map.of(), cwd, "upload");
    assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE.code());
    assertThat(r.stderr()).startsWith("wimg upload: Missing required parameter: 'FILE'\nUsage: wimg upload ")
        .endsWith("Try 'wimg upload --help' for more information.\n");
  }

  @Test
  void uploadOfAMissingFileAndAnUnreachableServerExitsWithTheHigherCode() throws IOException {
    Path nope = cwd.resolve("nope.jpg");
    CliRun r = CliRun.run(Map.of(), cwd, "upload", "--server", "http://127.0.0.1:" + closedPort(),
        nope.toString(), file.toString());
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCode.UNREACHABLE.code());
    assertThat(r.stderr().lines().toList()).hasSize(2);
    assertThat(r.stderr()).startsWith("wimg upload: " + nope + ": no such file\n"
        + "wimg upload: " + file + ": cannot reach the WIMG server at ");
  }

  @Test
  void malformedFidIsAUsageError() {
    CliRun r = CliRun.run(Map.of(), cwd, "download", "../status");
    assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE.code());
    assertThat(r.stderr()).startsWith("wimg download: '../status' is not a file id: ");
    CliRun rm = CliRun.run(Map.of(), cwd, "rm", "1-1,zz");
    assertThat(rm.exitCode()).isEqualTo(ExitCode.USAGE.code());
    assertThat(rm.stderr()).startsWith("wimg rm: '1-1,zz' is not a file id: ");
  }

  @Test
  void badFsyncPolicyAndSizeAreUsageErrors() {
    CliRun fsync = CliRun.run(Map.of(), cwd, "server", "--fsync", "sometimes");
    assertThat(fsync.exitCode()).isEqualTo(ExitCode.USAGE.code());
    assertThat(fsync.stderr()).startsWith("wimg server: Invalid value for option '--fsync': "
        + "'sometimes' is not an fsync policy: use always, interval, never\n");
    CliRun size = CliRun.run(Map.of(), cwd, "server", "--volume-size", "1x");
    assertThat(size.exitCode()).isEqualTo(ExitCode.USAGE.code());
    assertThat(size.stderr()).startsWith("wimg server: Invalid value for option '--volume-size': "
        + "'1x' is not a size: use a whole number of bytes with an optional unit k, m, g or t "
        + "(powers of 1024), e.g. 256m\n");
  }

  @Test
  void aBadPresetOrAShortSigningKeyIsAUsageError() {
    CliRun preset = CliRun.run(Map.of(), cwd, "server", "--port", "0", "--preset", "big=w=9000");
    assertThat(preset.exitCode()).isEqualTo(ExitCode.USAGE.code());
    assertThat(preset.stderr()).startsWith("wimg server: preset big: w must be 1..8192, got 9000\n");
    CliRun key = CliRun.run(Map.of("WIMG_SIGN_KEY", "short"), cwd, "server", "--port", "0");
    assertThat(key.exitCode()).isEqualTo(ExitCode.USAGE.code());
    assertThat(key.stderr()).startsWith("wimg server: a signing key must be at least 16 bytes\n");
    assertThat(cwd.resolve("wimg-data")).doesNotExist();
  }

  @Test
  void badValueFromEnvironmentSaysWhereItCameFrom() {
    CliRun r = CliRun.run(Map.of("WIMG_PORT", "lots"), cwd, "server");
    assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE.code());
    assertThat(r.stderr()).startsWith("wimg server: Invalid value for option '--port': 'lots' is not "
        + "an int (from environment variable WIMG_PORT)\n");
  }

  @Test
  void badValueFromConfigFileSaysWhereItCameFrom() throws IOException {
    Path config = Files.writeString(cwd.resolve("wimg.properties"), "max-upload=huge\n");
    CliRun r = CliRun.run(Map.of(), cwd, "server");
    assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE.code());
    assertThat(r.stderr()).startsWith("wimg server: Invalid value for option '--max-upload': 'huge' "
        + "is not a size: use a whole number of bytes with an optional unit k, m, g or t (powers of "
        + "1024), e.g. 256m (from config file " + config + " (key max-upload))\n");
  }

  @Test
  void verifyOfAMissingFolderIsAUsageError() {
    CliRun r = CliRun.run(Map.of(), cwd, "verify", cwd.resolve("nothing-here").toString());
    assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE.code());
    assertThat(r.stderr()).startsWith("wimg verify: not a folder: " + cwd.resolve("nothing-here") + "\n");
  }

  @Test
  void unreachableServerExitsUnreachableAndNamesTheUrl() throws IOException {
    String url = "http://127.0.0.1:" + closedPort();
    CliRun r = CliRun.run(Map.of(), cwd, "upload", "--server", url, file.toString());
    assertThat(r.exitCode()).isEqualTo(ExitCode.UNREACHABLE.code());
    assertThat(r.stdout()).isEmpty();
    assertThat(r.stderr()).isEqualTo("wimg upload: " + file + ": cannot reach the WIMG server at "
        + url + ": connection refused (is `wimg server` running there? Point elsewhere with "
        + "--server or WIMG_SERVER)\n");
    for (String command : new String[] {"download", "rm"}) {
      CliRun c = CliRun.run(Map.of(), cwd, command, "--server", url, "1-1,109c2ab3e");
      assertThat(c.exitCode()).as(command).isEqualTo(ExitCode.UNREACHABLE.code());
      assertThat(c.stderr()).as(command).startsWith("wimg " + command + ": cannot reach the WIMG server at " + url + ": ");
    }
  }

  @Test
  void stackTraceOnlyWithVerboseOrWimgDebug() throws IOException {
    String url = "http://127.0.0.1:" + closedPort();
    CliRun plain = CliRun.run(Map.of(), cwd, "rm", "--server", url, "1-1,109c2ab3e");
    assertThat(plain.stderr()).doesNotContain("\tat ");
    CliRun verbose = CliRun.run(Map.of(), cwd, "rm", "--verbose", "--server", url, "1-1,109c2ab3e");
    CliRun debug = CliRun.run(Map.of("WIMG_DEBUG", "1"), cwd, "rm", "--server", url, "1-1,109c2ab3e");
    for (CliRun r : new CliRun[] {verbose, debug}) {
      assertThat(r.exitCode()).isEqualTo(ExitCode.UNREACHABLE.code());
      assertThat(r.stderr()).startsWith(plain.stderr())
          .contains("dev.wimg.client.ServerUnreachableException: cannot reach the WIMG server at " + url)
          .contains("\tat dev.wimg.client.WimgClient.");
    }
  }

  @Test
  void serverUrlComesFromFlagThenEnvironmentThenConfigFileThenDefault() throws IOException {
    String fromFlag = "http://127.0.0.1:" + closedPort();
    String fromEnv = "http://127.0.0.1:" + closedPort();
    String fromFile = "http://127.0.0.1:" + closedPort();
    Path config = Files.writeString(cwd.resolve("other.properties"), "server=" + fromFile + "\n");

    assertThat(serverTried(Map.of("WIMG_SERVER", fromEnv), "--config", config.toString(), "--server", fromFlag))
        .isEqualTo(fromFlag);
    assertThat(serverTried(Map.of("WIMG_SERVER", fromEnv), "--config", config.toString())).isEqualTo(fromEnv);
    assertThat(serverTried(Map.of(), "--config", config.toString())).isEqualTo(fromFile);
    assertThat(serverTried(Map.of("WIMG_CONFIG", config.toString()))).isEqualTo(fromFile);
    Files.move(config, cwd.resolve("wimg.properties"));
    assertThat(serverTried(Map.of())).isEqualTo(fromFile);
    Files.delete(cwd.resolve("wimg.properties"));
    Integer port = closedPort();
    assertThat(serverTried(Map.of("WIMG_SERVER", "127.0.0.1:" + port))).isEqualTo("http://127.0.0.1:" + port);
  }

  @Test
  void helpShowsTheBuiltInServerDefaultWholeAndNamesTheVariableApart() {
    for (String command : new String[] {"upload", "download", "rm", "status", "distribute", "tasks"}) {
      String help = CliRun.run(Map.of("WIMG_SERVER", "http://elsewhere.example:8080"), cwd, command, "--help").out();
      assertThat(help).as(command)
          .contains("Default: http://127.0.0.1:9333\n")
          .contains("Environment: WIMG_SERVER.")
          .doesNotContain("elsewhere");
    }
  }

  @Test
  void distributeWithoutATargetIsAUsageError() {
    CliRun r = CliRun.run(Map.of(), cwd, "distribute", "1-1,109c2ab3e");
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCode.USAGE.code());
    assertThat(r.stderr()).startsWith("wimg distribute: Missing required option: '--to=TARGET'\n"
        + "Usage: wimg distribute ").endsWith("Try 'wimg distribute --help' for more information.\n");
    assertThat(r.stdout()).isEmpty();
  }

  @Test
  void distributeToAMalformedTargetIsAUsageErrorNamingTheAcceptedShapes() throws IOException {
    String url = "http://127.0.0.1:" + closedPort();
    for (String bogus : new String[] {"bogus", "zone:", "group:0", "group:x", "node:a b", "rack:1"}) {
      CliRun r = CliRun.run(Map.of(), cwd, "distribute", "1-1,109c2ab3e", "--to", "zone:edge", "--to", bogus,
          "--server", url);
      assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCode.USAGE.code());
      assertThat(r.stderr()).as(bogus)
          .startsWith("wimg distribute: Invalid value for option '--to' (TARGET): '" + bogus + "' is not a target")
          .contains(": use zone:NAME, group:N (1-65535) or node:ID\nUsage: wimg distribute ");
    }
  }

  @Test
  void distributeOfAMalformedFidIsAUsageError() {
    CliRun r = CliRun.run(Map.of(), cwd, "distribute", "../tasks", "--to", "zone:edge");
    assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE.code());
    assertThat(r.stderr()).startsWith("wimg distribute: '../tasks' is not a file id: ");
  }

  @Test
  void helpOfDistributeAndTasksListsTheirOptions() {
    CliRun help = CliRun.run(Map.of(), cwd, "help", "distribute");
    CliRun flag = CliRun.run(Map.of(), cwd, "distribute", "--help");
    assertThat(help.exitCode()).isZero();
    assertThat(flag.exitCode()).isZero();
    assertThat(help.out()).isEqualTo(flag.out());
    assertThat(flag.out()).startsWith("Usage: wimg distribute ")
        .contains("--to=TARGET", "zone:NAME", "group:N", "node:ID", "--wait", "--server=URL[,URL...]", "--key",
            "  9   TASK_FAILED: ");
    CliRun tasks = CliRun.run(Map.of(), cwd, "tasks", "--help");
    assertThat(tasks.exitCode()).isZero();
    assertThat(tasks.out()).startsWith("Usage: wimg tasks ").contains("[ID]", "--json", "--server=URL[,URL...]");
  }

  @Test
  void distributeAndTasksToAnUnreachableTrackerExitUnreachableAtOnce() throws IOException {
    String url = "http://127.0.0.1:" + closedPort();
    long started = System.nanoTime();
    CliRun r = CliRun.run(Map.of(), cwd, "distribute", "1-1,109c2ab3e", "--to", "zone:x", "--server", url);
    CliRun waiting = CliRun.run(Map.of(), cwd, "distribute", "1-1,109c2ab3e", "--to", "zone:x", "--wait",
        "--server", url);
    CliRun tasks = CliRun.run(Map.of(), cwd, "tasks", "--server", url);
    // The 30 s a --wait gives a lost tracker start once the task exists: no task, no wait.
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
    for (CliRun run : new CliRun[] {r, waiting}) {
      assertThat(run.exitCode()).as(run.toString()).isEqualTo(ExitCode.UNREACHABLE.code());
      assertThat(run.stdout()).isEmpty();
      assertThat(run.stderr()).isEqualTo("wimg distribute: cannot reach the WIMG server at " + url
          + ": connection refused (is `wimg server` running there? Point elsewhere with --server or WIMG_SERVER)\n");
    }
    assertThat(tasks.exitCode()).as(tasks.toString()).isEqualTo(ExitCode.UNREACHABLE.code());
    assertThat(tasks.stderr()).startsWith("wimg tasks: cannot reach the WIMG server at " + url + ": ");
  }

  @Test
  void tasksOfAMalformedIdIsAUsageError() {
    CliRun r = CliRun.run(Map.of(), cwd, "tasks", "../files");
    assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE.code());
    assertThat(r.stderr()).startsWith("wimg tasks: '../files' is not a task id: it has letters, digits, - and _ "
        + "only\nUsage: wimg tasks ");
  }

  @Test
  void portOutOfRangeIsAUsageErrorWithSynopsis() {
    CliRun r = CliRun.run(Map.of(), cwd, "server", "--port", "99999", "--data", cwd.resolve("d").toString());
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCode.USAGE.code());
    assertThat(r.stderr()).startsWith("wimg server: ").contains("\nUsage: wimg server ")
        .endsWith("Try 'wimg server --help' for more information.\n");
  }

  /** The launcher's start-up cache records this run: it must work end to end, quietly. */
  @Test
  void aotTrainingUploadsDownloadsAndDeletesThroughItsOwnServer() {
    CliRun r = CliRun.run(Map.of(), cwd, "aot-training");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stderr()).as(r.toString()).isEmpty();
    assertThat(r.stdout()).isEmpty();
  }

  @Test
  void serverOptionsOutOfRangeAreNamedAsWritten() {
    CliRun port = CliRun.run(Map.of(), cwd, "server", "--port", "99999");
    assertThat(port.exitCode()).as(port.toString()).isEqualTo(ExitCode.USAGE.code());
    assertThat(port.stderr()).startsWith("wimg server: --port must be 0..65535, got 99999\nUsage: wimg server ");
    CliRun size = CliRun.run(Map.of(), cwd, "server", "--port", "0", "--volume-size", "0");
    assertThat(size.exitCode()).as(size.toString()).isEqualTo(ExitCode.USAGE.code());
    assertThat(size.stderr()).startsWith("wimg server: --volume-size must be 1m..32g, got 0 bytes\n");
    CliRun upload = CliRun.run(Map.of(), cwd, "server", "--port", "0", "--max-upload", "2t");
    assertThat(upload.exitCode()).as(upload.toString()).isEqualTo(ExitCode.USAGE.code());
    assertThat(upload.stderr()).startsWith("wimg server: --max-upload must be at most 1t (1099511627776 bytes), got "
        + (2L << 40) + "\n");
    CliRun expiry = CliRun.run(Map.of(), cwd, "server", "--port", "0", "--upload-expiry", "0");
    assertThat(expiry.exitCode()).as(expiry.toString()).isEqualTo(ExitCode.USAGE.code());
    assertThat(expiry.stderr()).startsWith("wimg server: uploadExpiry must be ");
    CliRun soon = CliRun.run(Map.of(), cwd, "server", "--port", "0", "--upload-expiry", "soon");
    assertThat(soon.exitCode()).as(soon.toString()).isEqualTo(ExitCode.USAGE.code());
    assertThat(soon.stderr()).startsWith("wimg server: Invalid value for option '--upload-expiry': 'soon' is not a "
        + "duration: use a whole number with a unit s, m, h or d, e.g. 24h");
  }

  @Test
  void serverWithDataOnAFileSaysItIsNotAFolder() {
    CliRun r = CliRun.run(Map.of(), cwd, "server", "--port", "0", "--data", file.toString());
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCode.USAGE.code());
    assertThat(r.stderr()).startsWith("wimg server: data folder " + file + " is not a folder\n"
        + "Usage: wimg server ");
    assertThat(r.stdout()).isEmpty();
    assertThat(file).hasContent("hello");
  }

  @Test
  void serverWithDataUnderAFileSaysItCannotCreateTheFolder() {
    Path under = file.resolve("data");
    CliRun r = CliRun.run(Map.of(), cwd, "server", "--port", "0", "--data", under.toString());
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCode.USAGE.code());
    assertThat(r.stderr()).startsWith("wimg server: cannot create data folder " + under + ": "
        + file + " is not a folder\n");
    assertThat(r.stdout()).isEmpty();
  }

  @Test
  void configFileWithUnknownKeyIsRejected() throws IOException {
    Path config = Files.writeString(cwd.resolve("wimg.properties"), "prot=9333\n");
    CliRun r = CliRun.run(Map.of(), cwd, "status");
    assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE.code());
    assertThat(r.stderr()).isEqualTo("wimg: config file " + config + " has unknown key(s) [prot]; "
        + "known keys: port, bind, data, fsync, volume-size, max-upload, upload-expiry, write-key, server, preset, "
        + "presets-only, sign-key, transform-queue, transform-cache, derived-cap, group, tracker, "
        + "zone, public-url, cluster-key, down-after, group-placement, member-placement, reserve, "
        + "copies, raft-data, catch-up-every\n");
  }

  @Test
  void configFileIsNamedWithEqualsTooItsValuesAreTrimmedAndAfterDashDashItIsAnArgument() throws IOException {
    String fromFile = "http://127.0.0.1:" + closedPort();
    Path config = Files.writeString(cwd.resolve("other.properties"), "server =  " + fromFile + "  \n");
    assertThat(serverTried(Map.of(), "--config=" + config)).isEqualTo(fromFile);
    // After "--", "--config" is a file to upload, not an option: the file (whose key is a typo)
    // is not read as a config file, so the upload runs and fails on its own.
    Path typo = Files.writeString(cwd.resolve("typo.properties"), "prot=9333\n");
    CliRun r = CliRun.run(Map.of(), cwd, "upload", "--server", "http://127.0.0.1:" + closedPort(), "--",
        "--config", typo.toString());
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCode.UNREACHABLE.code());
    assertThat(r.stderr()).doesNotContain("unknown key");
  }

  @Test
  void aKeyQualifiedByItsCommandIsUnknown() throws IOException {
    Path config = Files.writeString(cwd.resolve("wimg.properties"), "wimg.upload.server=http://127.0.0.1:1\n");
    CliRun r = CliRun.run(Map.of(), cwd, "status");
    assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE.code());
    assertThat(r.stderr()).startsWith("wimg: config file " + config + " has unknown key(s) [wimg.upload.server]; ");
  }

  @Test
  void namedConfigFileMustExist() {
    CliRun r = CliRun.run(Map.of(), cwd, "status", "--config", cwd.resolve("missing.properties").toString());
    assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE.code());
    assertThat(r.stderr()).isEqualTo("wimg: config file not found: " + cwd.resolve("missing.properties") + "\n");
  }

  /** Runs an upload that cannot connect and returns the server URL its error names. */
  private String serverTried(Map<String, String> env, String... options) {
    String[] args = new String[options.length + 2];
    args[0] = "upload";
    System.arraycopy(options, 0, args, 1, options.length);
    args[args.length - 1] = file.toString();
    CliRun r = CliRun.run(env, cwd, args);
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCode.UNREACHABLE.code());
    String prefix = "cannot reach the WIMG server at ";
    int from = r.stderr().indexOf(prefix) + prefix.length();
    return r.stderr().substring(from, r.stderr().indexOf(": ", from));
  }

  /** A loopback port nothing listens on (bound, then released). */
  private static Integer closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
