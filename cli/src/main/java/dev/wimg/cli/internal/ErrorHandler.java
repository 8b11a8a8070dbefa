package dev.wimg.cli.internal;

import dev.wimg.cli.ExitCode;
import java.io.PrintStream;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Turns every failure into one line on stderr, {@code wimg <command>: <message>}, and an
 * {@link ExitCode}. Usage errors add the command's synopsis and where to find its help; stack traces appear only with
 * {@code --verbose} or {@code WIMG_DEBUG=1}. A bad value that came from an environment variable or
 * the config file says so, since it is not on the command line the user is looking at.
 */
final class ErrorHandler implements IExecutionExceptionHandler, IParameterExceptionHandler {

  private final Environment environment;
  private final ConfigDefaults config;

  ErrorHandler(Environment environment, ConfigDefaults config) {
    this.environment = environment;
    this.config = config;
  }

  @Override
  public int handleParseException(ParameterException ex, String[] args) {
    PrintStream err = environment.err();
    CommandLine command = ex.getCommandLine();
    String message = ex.getMessage();
    ArgSpec arg = ex.getArgSpec();
    if (arg != null && !givenOnCommandLine(arg, args)) {
      String origin = config.originOf(arg);
      if (origin != null) {
        message += " (from " + origin + ")";
      }
    }
    err.println(command.getCommandSpec().qualifiedName() + ": " + message);
    PrintWriter writer = new PrintWriter(err, true);
    UnmatchedArgumentException.printSuggestions(ex, writer);
    writer.flush();
    printSynopsisAndHelpHint(command, err);
    return ExitCode.USAGE.code();
  }

  /** The tail of every usage error, whether picocli or the command found it. */
  private static void printSynopsisAndHelpHint(CommandLine command, PrintStream err) {
    CommandLine.Help help = command.getHelp();
    err.print(help.synopsisHeading() + help.synopsis(help.synopsisHeadingLength()));
    err.println("Try '" + command.getCommandSpec().qualifiedName() + " --help' for more information.");
    err.flush();
  }

  @Override
  public int handleExecutionException(Exception ex, CommandLine command, ParseResult parseResult) {
    PrintStream err = environment.err();
    CliFailure failure = CliFailure.of(ex);
    String name = command.getCommandSpec().qualifiedName();
    err.println(name + ": " + failure.getMessage());
    if (verbose(parseResult) || environment.debug()) {
      ex.printStackTrace(err);
    } else if (!failure.expected()) {
      err.println(name + ": run again with --verbose (or WIMG_DEBUG=1) to see the stack trace");
    } else if (failure.exitCode() == ExitCode.USAGE) {
      printSynopsisAndHelpHint(command, err);
    }
    err.flush();
    return failure.exitCode().code();
  }

  private static boolean verbose(ParseResult result) {
    for (ParseResult r = result; r != null; r = r.subcommand()) {
      if (r.hasMatchedOption("--verbose")) {
        return true;
      }
    }
    return false;
  }

  private static boolean givenOnCommandLine(ArgSpec arg, String[] args) {
    if (!(arg instanceof OptionSpec option)) {
      return true;
    }
    for (String a : args) {
      if (a.equals("--")) {
        return false;
      }
      for (String name : option.names()) {
        if (a.equals(name) || a.startsWith(name + "=")) {
          return true;
        }
      }
    }
    return false;
  }
}
