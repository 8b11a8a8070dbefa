package dev.wimg.cli.internal;

import dev.wimg.protocol.Fid;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** Checks a FID argument before anything is sent, so a typo is a usage error, not a server error. */
final class FidArgument {

  private FidArgument() {}

  /**
   * @return {@code text}, which has the form of a fid
   * @throws ParameterException naming the problem, if it has not
   */
  static String check(CommandSpec spec, String text) {
    try {
      return Fid.parse(text).toString();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "'" + text + "' is not a file id: " + e.getMessage());
    }
  }
}
