package dev.wimg.cli.internal;

import dev.wimg.cli.ExitCode;
import dev.wimg.client.WimgClient;
import dev.wimg.client.WimgException;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code wimg download FID [-o FILE]}: streams a file to stdout or to FILE. A FILE that is a
 * regular file or does not exist yet is replaced only once the whole file has arrived (a temporary
 * file next to it is renamed over it). Anything else is written in place, never replaced: a
 * symbolic link is written through to its target (as {@code curl -o} and shell redirection do), a
 * device or FIFO is written to directly; it is opened only once the server has answered with the
 * file, so a missing fid leaves it untouched. If FILE is an existing folder, the file is saved in
 * it under its fid (as {@code cp} does with a folder); a FILE whose folder does not exist is a
 * usage error, found before anything is requested. A failed write (a full disk, {@code /dev/full})
 * exits {@link ExitCode#FAILURE} with the path and the reason.
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
      description = {"Write to FILE instead of stdout; - is stdout. A regular FILE is",
          "replaced only when complete; a symlink is written through, a device or FIFO",
          "written to. An existing folder: save in it as FOLDER/FID."})
  private Path output;

  @Option(names = "--streams", paramLabel = "N", defaultValue = "4",
      description = "Parallel streams for a file over 8 MiB, 1-64 (default: ${DEFAULT-VALUE}).")
  private int streams;

  /** Each member an equal fixed share of a large file, as a fixed split would: for comparisons (bench/). */
  @Option(names = "--fixed-shares", hidden = true)
  private boolean fixedShares;

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
    if (streams < 1 || streams > 64) {
      throw new CliFailure(ExitCode.USAGE, "--streams must be 1 to 64, got " + streams);
    }
    try (WimgClient client = remote.connect(streams, !fixedShares)) {
      try {
        if (toStdout) {
          CheckedStdout stdout = new CheckedStdout(environment.out());
          client.download(id, stdout);
          stdout.flush();
        } else if (replaceable(target)) {
          try (TransferProgress progress = TransferProgress.of(environment, "download " + id)) {
            client.download(id, target, progress);
          }
        } else {
          try (InPlaceOutput out = new InPlaceOutput(target)) {
            client.download(id, out);
            out.open();
          }
        }
      } catch (WimgException e) {
        if (e.status() == 404) {
          // Named after the server that answered: with several, the one that said "no such file".
          throw new CliFailure(ExitCode.NOT_FOUND, "no file " + id + " on " + client.server());
        }
        throw remote.explain(e);
      }
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
   * Whether {@code target} may be replaced by renaming a temporary file over it: only a regular file
   * (not followed if it is a symbolic link) or a path where nothing exists yet.
   */
  private static boolean replaceable(Path target) throws IOException {
    try {
      return Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
          .isRegularFile();
    } catch (NoSuchFileException e) {
      return true;
    }
  }

  /**
   * Writes into an existing path without replacing it: a symbolic link's target (created if the
   * link dangles), a device, a FIFO. Opened on the first write, or by {@link #open()} once the whole
   * (maybe empty) file has arrived, so that a download refused by the server truncates nothing.
   * Failures name the path.
   */
  private static final class InPlaceOutput extends OutputStream {

    private final Path path;
    private OutputStream out;

    InPlaceOutput(Path path) {
      this.path = path;
    }

    /** Opens the path for writing if not yet open: a FIFO blocks here until it has a reader. */
    void open() throws IOException {
      if (out == null) {
        try {
          out = Files.newOutputStream(path, StandardOpenOption.WRITE, StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
          throw failed("cannot open " + path + " for writing", e);
        }
      }
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      open();
      try {
        out.write(b, off, len);
      } catch (IOException e) {
        throw failed("cannot write to " + path, e);
      }
    }

    @Override
    public void close() throws IOException {
      if (out != null) {
        try {
          out.close();
        } catch (IOException e) {
          throw failed("cannot write to " + path, e);
        }
      }
    }

    /** {@code context}, a colon and the reason: the OS's words, without the path it repeats. */
    private static IOException failed(String context, IOException e) {
      String reason = switch (e) {
        case AccessDeniedException a -> "permission denied";
        case NoSuchFileException n -> "no such file or folder";
        case FileSystemException f when f.getReason() != null -> f.getReason();
        default -> e.getMessage() == null || e instanceof FileSystemException
            ? e.getClass().getSimpleName() : e.getMessage();
      };
      return new IOException(context + ": " + reason, e);
    }
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
