package dev.wimg.cli.internal;

import dev.wimg.cli.ExitCode;
import dev.wimg.server.VerifyResult;
import dev.wimg.server.WimgServer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code wimg verify DIR}: checks every needle of every volume in a data folder without changing
 * it, prints a summary line and then each problem on its own line; exits {@link ExitCode#CORRUPT}
 * if there is any. A volume that a running server shrank or replaced while it was being checked is
 * named on a line of its own and is not a problem: without problems, the exit is then {@link
 * ExitCode#INCOMPLETE}.
 */
@Command(name = "verify", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = {"Check every stored file in a data folder (magic, sizes, CRC32C, index) without "
        + "changing anything.", "Prints a summary, then one line per problem; exits 7 if there is any, "
        + "8 if a running server changed a volume while it was checked (run it again)."})
final class VerifyCommand implements Callable<Integer> {

  private final Environment environment;

  @Spec
  private CommandSpec spec;

  @Parameters(paramLabel = "DIR", description = "The server's data folder (its --data).")
  private Path dir;

  VerifyCommand(Environment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() throws IOException {
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
}
