package dev.wimg.cli.internal;

import dev.wimg.cli.ExitCode;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** The root command {@code wimg}: global options and the subcommands. */
@Command(name = "wimg", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = "WIMG picture and file server: run one, upload, fetch, delete, verify and distribute files.",
    subcommands = {ServerCommand.class, TrackerCommand.class, StorageCommand.class,
        UploadCommand.class, DownloadCommand.class,
        RmCommand.class, VerifyCommand.class, StatusCommand.class, DistributeCommand.class, TasksCommand.class,
        HelpCommand.class, AotTrainingCommand.class},
    footerHeading = "%nConfiguration:%n",
    footer = {
        "Settings come from, highest first: command-line flags; environment variables",
        "(WIMG_PORT, WIMG_BIND, WIMG_DATA, WIMG_FSYNC, WIMG_VOLUME_SIZE, WIMG_MAX_UPLOAD,",
        "WIMG_WRITE_KEY, WIMG_SERVER); a config file (--config FILE, else $WIMG_CONFIG,",
        "else ./wimg.properties if present) of Java properties named as the long flags",
        "(port=9333); built-in defaults. WIMG_DEBUG=1 prints stack traces of errors,",
        "WIMG_LOG_LEVEL=DEBUG more server logs."})
public final class WimgCommand implements Callable<Integer> {

  @Spec
  private CommandSpec spec;

  /** Read by {@link ConfigDefaults#load} before parsing; declared so picocli accepts and documents it. */
  @Option(names = "--config", paramLabel = "FILE", scope = ScopeType.INHERIT,
      description = "Java properties file with defaults (keys as the long flags, e.g. port=9333).")
  private Path config;

  /** Read from the parse result by {@link ErrorHandler}. */
  @Option(names = "--verbose", scope = ScopeType.INHERIT,
      description = "Print the stack trace of an error (also: WIMG_DEBUG=1).")
  private boolean verbose;

  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(),
        "missing command: choose one of " + String.join(", ", spec.subcommands().entrySet().stream()
            .filter(c -> !c.getValue().getCommandSpec().usageMessage().hidden()).map(Map.Entry::getKey).toList()));
  }

  /** Parses {@code args}, runs the chosen command and returns its exit status. */
  public static int run(Environment environment, String... args) {
    ConfigDefaults config;
    try {
      config = ConfigDefaults.load(args, environment);
    } catch (CliFailure f) {
      environment.err().println("wimg: " + f.getMessage());
      environment.err().flush();
      return f.exitCode().code();
    }
    ErrorHandler errors = new ErrorHandler(environment, config);
    CommandLine commandLine = new CommandLine(WimgCommand.class, new CommandFactory(environment))
        .setOut(writer(environment.out()))
        .setErr(writer(environment.err()))
        .setDefaultValueProvider(config)
        .setExecutionExceptionHandler(errors)
        .setParameterExceptionHandler(errors);
    addExitCodes(commandLine);
    try {
      return commandLine.execute(args);
    } finally {
      environment.out().flush();
      environment.err().flush();
    }
  }

  private static void addExitCodes(CommandLine commandLine) {
    Map<Integer, String> byCode = new TreeMap<>();
    for (ExitCode c : ExitCode.values()) {
      byCode.put(c.code(), c.name() + ": " + c.meaning());
    }
    byCode.put(ExitCode.LAUNCHER_FAILED, "(./wimg launcher) no JDK 25 found, or the build failed");
    Map<String, String> codes = new LinkedHashMap<>();
    byCode.forEach((code, text) -> codes.put(String.format("%3d", code), text));
    commandLine.getCommandSpec().usageMessage()
        .exitCodeListHeading("%nExit codes:%n")
        .exitCodeList(codes);
    for (CommandLine sub : commandLine.getSubcommands().values()) {
      addExitCodes(sub);
    }
  }

  private static PrintWriter writer(PrintStream stream) {
    return new PrintWriter(stream, true, stream.charset());
  }
}
