package dev.wimg.cli.internal;

import dev.wimg.cli.ExitCode;
import dev.wimg.client.WimgClient;
import dev.wimg.client.WimgException;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code wimg download FID [-o FILE]}: streams a file to stdout or to FILE. FILE is replaced only
 * once the whole file has arrived. If FILE is an existing folder, the file is saved in it under
 * its fid (as {@code cp} does with a folder); a FILE whose folder does not exist is a usage error,
 * found before anything is requested.
 */
@Command(name = "download", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class, sortOptions = false,
    description = "Download a file by its fid to stdout, or to FILE with -o.")
final class DownloadCommand implements Callable<Integer> {

  private final Environment environment;

  @Spec
  private CommandSpec spec;

  @Mixin
  private RemoteOptions remote;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE",
      description = {"Write to FILE (replaced only when complete) instead of stdout; - is",
          "stdout. An existing folder: save in it as FOLDER/FID."})
  private Path output;

  @Parameters(paramLabel = "FID", description = "The file id printed by upload.")
  private String fid;

  DownloadCommand(Environment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() throws IOException {
    String id = FidArgument.check(spec, fid);
    boolean toStdout = output == null || output.toString().equals("-");
    Path target = toStdout ? null : target(id);
    try (WimgClient client = remote.connect()) {
      if (toStdout) {
        CheckedStdout stdout = new CheckedStdout(environment.out());
        client.download(id, stdout);
        stdout.flush();
      } else {
        client.download(id, target);
      }
    } catch (WimgException e) {
      if (e.status() == 404) {
        throw new CliFailure(ExitCode.NOT_FOUND, "no file " + id + " on " + remote.server());
      }
      throw remote.explain(e);
    }
    return ExitCode.OK.code();
  }

  /** The file {@code -o} names: itself, or {@code <folder>/<fid>} for a folder; its folder must exist. */
  private Path target(String id) {
    if (Files.isDirectory(output)) {
      return output.resolve(id);
    }
    Path folder = output.toAbsolutePath().getParent();
    if (folder == null || output.getFileName() == null) {
      throw new CliFailure(ExitCode.USAGE, "-o " + output + " does not name a file");
    }
    if (!Files.exists(folder)) {
      throw new CliFailure(ExitCode.USAGE, "folder " + folder + " does not exist");
    }
    if (!Files.isDirectory(folder)) {
      throw new CliFailure(ExitCode.USAGE, folder + " is not a folder");
    }
    return output;
  }

  /**
   * Stdout that reports write errors (a full disk behind {@code >}, a closed pipe): a
   * {@link PrintStream} only records them, which would end a failed download with exit code 0.
   */
  private static final class CheckedStdout extends FilterOutputStream {

    private final PrintStream stdout;

    CheckedStdout(PrintStream stdout) {
      super(stdout);
      this.stdout = stdout;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      stdout.write(b, off, len);
      if (stdout.checkError()) {
        throw new IOException("cannot write to stdout: " + Environment.STDOUT_LOST);
      }
    }

    @Override
    public void flush() throws IOException {
      stdout.flush();
      if (stdout.checkError()) {
        throw new IOException("cannot write to stdout: " + Environment.STDOUT_LOST);
      }
    }
  }
}
