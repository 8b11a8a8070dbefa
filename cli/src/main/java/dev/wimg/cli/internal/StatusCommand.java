package dev.wimg.cli.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.wimg.cli.ExitCode;
import dev.wimg.client.WimgClient;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code wimg status}: the server's {@code GET /status}, pretty-printed. */
@Command(name = "status", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = "Print the server's status (volumes, needles, free space, version) as JSON.")
final class StatusCommand implements Callable<Integer> {

  private final Environment environment;

  @Mixin
  private RemoteOptions remote;

  StatusCommand(Environment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() throws IOException {
    try (WimgClient client = remote.connect()) {
      environment.out().println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
          .writeValueAsString(client.status()));
    }
    if (environment.outputLost()) {
      throw new CliFailure(ExitCode.FAILURE, "cannot write to stdout: " + Environment.STDOUT_LOST);
    }
    return ExitCode.OK.code();
  }
}
