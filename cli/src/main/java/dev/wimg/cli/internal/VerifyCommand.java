package dev.wimg.cli.internal;

import dev.wimg.cli.ExitCode;
import dev.wimg.server.VerifyResult;
import dev.wimg.server.WimgServer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code wimg verify --server NODE_URL}: asks a running storage node whether its copies of its
 * group's volumes are its peers' byte for byte ({@code GET /verify}); exits {@link
 * ExitCode#CORRUPT} if not.
 *
 * <p>{@code wimg verify DIR}: checks every needle of every volume in a data folder without changing
 * it, prints a summary line and then each problem on its own line; exits {@link ExitCode#CORRUPT}
 * if there is any. A volume that a running server shrank or replaced while it was being checked is
 * named on a line of its own and is not a problem: without problems, the exit is then {@link
 * ExitCode#INCOMPLETE}.
 */
@Command(name = "verify", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = {"Check every stored file in a data folder (magic, sizes, CRC32C, index) without "
        + "changing anything; or, with --server, whether a running storage node holds the same "
        + "bytes as the other members of its group.", "Prints a summary, then one line per problem; "
        + "exits 7 if there is any, 8 if a running server changed a volume while it was checked "
        + "(run it again)."})
final class VerifyCommand implements Callable<Integer> {

  private final Environment environment;

  @Spec
  private CommandSpec spec;

  @Parameters(paramLabel = "DIR", arity = "0..1", description = "The server's data folder (its --data).")
  private Path dir;

  @Option(names = "--server", paramLabel = "NODE_URL", description = "A running storage node to "
      + "compare with its peers instead of a folder.")
  private URI server;

  @Option(names = {"--key", "--write-key"}, paramLabel = "KEY",
      description = "Write key of the node (env WIMG_WRITE_KEY).")
  private String key;

  VerifyCommand(Environment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() throws IOException {
    if ((dir == null) == (server == null)) {
      throw new ParameterException(spec.commandLine(), "give either a data folder DIR or --server NODE_URL");
    }
    if (server != null) {
      return verifyNode();
    }
    if (!Files.isDirectory(dir)) {
      throw new ParameterException(spec.commandLine(), "not a folder: " + dir);
    }
    VerifyResult report = WimgServer.verify(dir);
    PrintStream out = environment.out();
    String summary = dir + ": " + report.volumes() + " volume(s), " + report.needlesChecked()
        + " needle(s) checked (" + report.liveNeedles() + " live, " + report.deletedNeedles()
        + " deleted): ";
    if (report.ok()) {
      out.println(summary + "no problems");
      return ExitCode.OK.code();
    }
    out.println(summary + report.problems().size() + " problem(s)"
        + (report.changed().isEmpty() ? "" : ", " + report.changed().size()
            + " file(s) changed while being checked"));
    for (String problem : report.problems()) {
      out.println("  " + problem);
    }
    for (String changed : report.changed()) {
      out.println("  " + changed);
    }
    return report.problems().isEmpty() ? ExitCode.INCOMPLETE.code() : ExitCode.CORRUPT.code();
  }

  /** {@code --server}: the node's {@code GET /verify}, printed. */
  private int verifyNode() throws IOException {
    JsonNode report;
    try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
      HttpRequest.Builder request = HttpRequest.newBuilder(server.resolve("/verify"))
          .timeout(Duration.ofMinutes(30));
      String writeKey = key != null ? key : environment.variables().get("WIMG_WRITE_KEY");
      if (writeKey != null && !writeKey.isBlank()) {
        request.header("Authorization", "Bearer " + writeKey);
      }
      HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
      report = new ObjectMapper().readTree(response.body());
      if (response.statusCode() != 200) {
        throw new CliFailure(ExitCode.SERVER_ERROR, server + " answered " + response.statusCode()
            + (report.has("error") ? ": " + report.get("error").asText() : ""), null);
      }
    } catch (java.net.ConnectException e) {
      throw new CliFailure(ExitCode.UNREACHABLE, "cannot reach " + server, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    PrintStream out = environment.out();
    boolean clean = report.path("clean").asBoolean();
    List<String> problems = new ArrayList<>();
    for (JsonNode volume : report.path("volumes")) {
      for (JsonNode peer : volume.path("peers")) {
        if (!peer.path("same").asBoolean()) {
          problems.add("volume " + volume.path("id").asInt() + " (" + volume.path("end").asLong()
              + " bytes here), " + peer.path("url").asText() + " (" + peer.path("end").asLong()
              + " bytes): " + peer.path("problem").asText());
        }
      }
    }
    out.println(server + ": " + report.path("volumes").size() + " volume(s) compared with "
        + report.path("peersAsked").asInt() + " peer(s): "
        + (clean ? "the same bytes" : problems.size() + " difference(s)"));
    problems.forEach(p -> out.println("  " + p));
    return clean ? ExitCode.OK.code() : ExitCode.CORRUPT.code();
  }
}
