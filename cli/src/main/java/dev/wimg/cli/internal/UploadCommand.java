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
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code wimg upload FILE...}: one request per file, in order, each streamed from disk. Prints a
 * line {@code <fid> <url>} as each is acknowledged. It stops at the first failure; the lines (or
 * the JSON) already printed name the files that were stored.
 */
@Command(name = "upload", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class, sortOptions = false,
    description = {"Upload files; print one line per file: the fid, a space, the full URL.",
        "The media type is guessed from the file name."})
final class UploadCommand implements Callable<Integer> {

  private final Environment environment;

  @Spec
  private CommandSpec spec;

  @Mixin
  private RemoteOptions remote;

  @Option(names = "--json",
      description = "Print JSON instead: an object {file, fid, url, size, mime, etag} for one FILE, "
          + "an array of them for several.")
  private boolean json;

  @Parameters(paramLabel = "FILE", arity = "1..*", description = "Files to upload.")
  private List<Path> files;

  UploadCommand(Environment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() throws IOException {
    for (Path f : files) {
      if (!Files.isRegularFile(f)) {
        throw new ParameterException(spec.commandLine(), "not a file: " + f);
      }
      if (!Files.isReadable(f)) {
        throw new ParameterException(spec.commandLine(), "cannot read: " + f);
      }
    }
    PrintStream out = environment.out();
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ArrayNode done = mapper.createArrayNode();
    try (WimgClient client = remote.connect()) {
      for (Path f : files) {
        UploadResult r;
        try {
          r = client.upload(f);
        } catch (IOException e) {
          if (json && files.size() > 1) {
            out.println(mapper.writeValueAsString(done));
          }
          throw CliFailure.of(f.toString(), e);
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
          out.flush();
        }
      }
    }
    if (json) {
      out.println(mapper.writeValueAsString(files.size() == 1 ? done.get(0) : done));
    }
    return ExitCode.OK.code();
  }
}
