package dev.wimg.cli.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.wimg.cli.ExitCode;
import dev.wimg.client.UploadResult;
import dev.wimg.client.WimgClient;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code wimg upload FILE...}: one request per file, in order, each streamed from disk (a file over
 * 8 MiB in parallel parts, resumable with {@code --resume}: {@link WimgClient#uploadResumable}). Prints a
 * line {@code <fid> <url>} as each is acknowledged. A file that fails gets an error line on stderr
 * naming it and the next file is tried; the exit code is then the highest code among the failures
 * (see {@link #call()}). If stdout cannot be written, it stops: the fid just stored is named on
 * stderr instead, so it is not lost.
 */
@Command(name = "upload", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class, sortOptions = false,
    description = {"Upload files; print one line per file: the fid, a space, the full URL.",
        "The media type is guessed from the file name.",
        "Every FILE is tried even if one fails; each failure gets a line on stderr",
        "naming its file (a missing or unreadable FILE too, with code 1). The exit code",
        "is then the highest code among the failures (6 if one file met an unreachable",
        "server and another was refused with 5)."})
final class UploadCommand implements Callable<Integer> {

  private final Environment environment;

  @Spec
  private CommandSpec spec;

  @Mixin
  private RemoteOptions remote;

  @Option(names = "--json",
      description = "Print JSON instead: an object {file, fid, url, size, mime, etag} for one FILE, "
          + "an array of them for several (only the files stored; failures go to stderr).")
  private boolean json;

  @Option(names = "--resume",
      description = "Go on with an upload of a large FILE that was interrupted: send only what the "
          + "server lacks, as recorded in FILE.wimg-upload. Without it such an upload starts again.")
  private boolean resume;

  @Option(names = "--streams", paramLabel = "N", defaultValue = "4",
      description = "Parallel streams for a file over 8 MiB, 1-64 (default: ${DEFAULT-VALUE}).")
  private int streams;

  @Parameters(paramLabel = "FILE", arity = "1..*", description = "Files to upload.")
  private List<Path> files;

  UploadCommand(Environment environment) {
    this.environment = environment;
  }

  /**
   * A file over {@link WimgClient#LARGE_FILE_BYTES} goes up in parallel parts, resumably, its
   * parts recorded in {@code FILE.wimg-upload} until it is stored; a smaller one in one request.
   */
  private UploadResult upload(WimgClient client, Path f) throws IOException {
    if (java.nio.file.Files.size(f) <= WimgClient.LARGE_FILE_BYTES) {
      return client.upload(f);
    }
    Path state = f.resolveSibling(f.getFileName() + ".wimg-upload");
    if (!resume) {
      java.nio.file.Files.deleteIfExists(state);
    }
    try (TransferProgress progress = TransferProgress.of(environment, "upload " + f.getFileName())) {
      return client.uploadResumable(f, state, progress);
    }
  }

  /**
   * Uploads every file. Returns {@link ExitCode#OK} if all were stored and printed, else the
   * highest exit code among the failures; a failure to write stdout counts as
   * {@link ExitCode#FAILURE}.
   */
  @Override
  public Integer call() throws IOException {
    PrintStream out = environment.out();
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ArrayNode done = mapper.createArrayNode();
    ExitCode worst = ExitCode.OK;
    if (streams < 1 || streams > 64) {
      throw new CliFailure(ExitCode.USAGE, "--streams must be 1 to 64, got " + streams);
    }
    try (WimgClient client = remote.connect(streams, true)) {
      for (Path f : files) {
        CliFailure unreadable = checkReadable(f);
        if (unreadable != null) {
          worst = worse(worst, report(unreadable, f));
          continue;
        }
        UploadResult r;
        try {
          r = upload(client, f);
        } catch (IOException e) {
          worst = worse(worst, report(remote.explain(e), f));
          continue;
        }
        String url = client.urlOf(r).toString();
        if (json) {
          ObjectNode node = done.addObject();
          node.put("file", f.toString());
          node.put("fid", r.fid());
          node.put("url", url);
          node.put("size", r.size());
          node.put("mime", r.mime());
          node.put("etag", r.etag());
        } else {
          out.println(r.fid() + " " + url);
          if (environment.outputLost()) {
            return worse(worst, stdoutLost(List.of(r.fid() + " " + url))).code();
          }
        }
      }
    }
    if (json && !done.isEmpty()) {
      out.println(mapper.writeValueAsString(files.size() == 1 ? done.get(0) : done));
      if (environment.outputLost()) {
        List<String> stored = new ArrayList<>();
        done.forEach(node -> stored.add(node.get("fid").asText() + " " + node.get("url").asText()));
        return worse(worst, stdoutLost(stored)).code();
      }
    }
    return worst.code();
  }

  /**
   * Why {@code file} cannot be uploaded, found before anything is sent, or null: the upload streams
   * a regular file whose size is known up front.
   */
  private static CliFailure checkReadable(Path file) {
    if (!Files.exists(file)) {
      return new CliFailure(ExitCode.FAILURE, "no such file");
    }
    if (!Files.isRegularFile(file)) {
      return new CliFailure(ExitCode.FAILURE, Files.isDirectory(file) ? "is a folder, not a file"
          : "not a regular file");
    }
    if (!Files.isReadable(file)) {
      return new CliFailure(ExitCode.FAILURE, "permission denied");
    }
    return null;
  }

  /** Prints {@code failure} of {@code file} on stderr as the error handler would, and returns its code. */
  private ExitCode report(CliFailure failure, Path file) {
    PrintStream err = environment.err();
    err.println(spec.qualifiedName() + ": " + file + ": " + failure.getMessage());
    if (environment.debug() || spec.commandLine().getParseResult().hasMatchedOption("--verbose")) {
      failure.printStackTrace(err);
    }
    err.flush();
    return failure.exitCode();
  }

  /** Reports a broken stdout, naming the files stored whose lines may not have arrived. */
  private ExitCode stdoutLost(List<String> stored) {
    PrintStream err = environment.err();
    err.println(spec.qualifiedName() + ": cannot write to stdout: " + Environment.STDOUT_LOST
        + "; stored but maybe not printed: " + String.join(", ", stored));
    err.flush();
    return ExitCode.FAILURE;
  }

  private static ExitCode worse(ExitCode a, ExitCode b) {
    return a.code() >= b.code() ? a : b;
  }
}
