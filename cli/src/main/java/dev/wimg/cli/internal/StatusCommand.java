package dev.wimg.cli.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.wimg.cli.ExitCode;
import dev.wimg.client.ClusterView;
import dev.wimg.client.WimgClient;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code wimg status}: asks the first server that answers (see {@link WimgClient}) for
 * {@code GET /cluster}. A tracker answers it: its view is printed as a {@link ClusterTable}, or
 * with {@code --json} as the tracker's JSON. A single server has no {@code /cluster}: its
 * {@code GET /status} is printed, pretty JSON, as it always was.
 */
@Command(name = "status", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    sortOptions = false,
    description = {"Print a tracker's view of the cluster as a table: groups, their storage",
        "nodes, state, free space, load, files and when each was last heard from.",
        "A single server (no cluster) prints its status (volumes, needles, free",
        "space, version) as JSON."})
final class StatusCommand implements Callable<Integer> {

  private final Environment environment;

  @Mixin
  private RemoteOptions remote;

  @Option(names = "--json",
      description = "From a tracker, print its /cluster JSON instead of the table. "
          + "(A single server's status is JSON either way.)")
  private boolean json;

  StatusCommand(Environment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() throws IOException {
    String text;
    try (WimgClient client = remote.connect()) {
      Optional<ClusterView> cluster = client.cluster();
      if (cluster.isEmpty()) {
        text = pretty(client.status()) + "\n";
      } else if (json) {
        text = pretty(cluster.get().document()) + "\n";
      } else {
        text = ClusterTable.render(cluster.get());
      }
    }
    environment.out().print(text);
    if (environment.outputLost()) {
      throw new CliFailure(ExitCode.FAILURE, "cannot write to stdout: " + Environment.STDOUT_LOST);
    }
    return ExitCode.OK.code();
  }

  /** {@code node} as indented JSON, without a final newline; also {@link TasksCommand}'s {@code --json}. */
  static String pretty(JsonNode node) throws IOException {
    return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(node);
  }
}
