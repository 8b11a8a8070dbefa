package dev.wimg.cli.internal;

import dev.wimg.cli.ExitCode;
import dev.wimg.client.WimgClient;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code wimg rm FID}: deletes a file; silent on success, like rm. */
@Command(name = "rm", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class, sortOptions = false,
    description = "Delete a file by its fid. Prints nothing on success.")
final class RmCommand implements Callable<Integer> {

  @Spec
  private CommandSpec spec;

  @Mixin
  private RemoteOptions remote;

  @Parameters(paramLabel = "FID", description = "The file id printed by upload.")
  private String fid;

  @Override
  public Integer call() throws IOException {
    String id = FidArgument.check(spec, fid);
    try (WimgClient client = remote.connect()) {
      if (!client.delete(id)) {
        throw new CliFailure(ExitCode.NOT_FOUND, "no file " + id + " on " + client.server());
      }
    } catch (IOException e) {
      throw remote.explain(e);
    }
    return ExitCode.OK.code();
  }
}
