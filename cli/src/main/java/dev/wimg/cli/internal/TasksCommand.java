package dev.wimg.cli.internal;

import dev.wimg.cli.ExitCode;
import dev.wimg.client.WimgClient;
import dev.wimg.client.WimgException;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code wimg tasks [ID]}: a tracker's distribution tasks ({@code GET /tasks}, no key needed) as a
 * {@link TaskTable}, one line per task; with ID, that task ({@code GET /tasks/<id>}) and one line
 * per target. {@code --json} prints the tracker's JSON instead, as it sent it (indented), fields
 * this build does not know included. An ID the tracker does not know is
 * {@link ExitCode#NOT_FOUND}, as a missing file is for {@code download}.
 */
@Command(name = "tasks", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    sortOptions = false,
    description = {"List a tracker's distribution tasks, one line each: id, fid, state, targets",
        "done of all, copies of the file the source sent. With ID, that task, then one",
        "line per target: node, URL, zone, state, pieces verified, bytes received,",
        "rate and why it failed."})
final class TasksCommand implements Callable<Integer> {

  private final Environment environment;

  @Spec
  private CommandSpec spec;

  @Mixin
  private RemoteOptions remote;

  @Option(names = "--json", description = "Print the tracker's JSON instead of the table.")
  private boolean json;

  @Parameters(paramLabel = "ID", arity = "0..1", description = "A task id, as distribute printed it.")
  private String id;

  TasksCommand(Environment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() throws IOException {
    if (id != null && !WimgClient.isTaskId(id)) {
      throw new ParameterException(spec.commandLine(), "'" + id + "' is not a task id: it has letters, digits, "
          + "- and _ only");
    }
    String text;
    try (WimgClient client = remote.taskClient()) {
      try {
        if (id == null) {
          text = json ? StatusCommand.pretty(client.tasksDocument()) + "\n" : TaskTable.render(client.tasks());
        } else {
          text = json ? StatusCommand.pretty(client.taskDocument(id)) + "\n" : TaskTable.render(client.task(id));
        }
      } catch (WimgException e) {
        if (e.status() == 404 && id != null) {
          // Named after the tracker that answered: with several, the one that did not know it.
          throw new CliFailure(ExitCode.NOT_FOUND, "no task " + id + " on " + client.server(), e);
        }
        throw remote.explainTask(e, id == null ? "GET /tasks" : "GET /tasks/" + id, client.server());
      } catch (IOException e) {
        throw remote.explain(e);
      }
    }
    environment.out().print(text);
    if (environment.outputLost()) {
      throw new CliFailure(ExitCode.FAILURE, "cannot write to stdout: " + Environment.STDOUT_LOST);
    }
    return ExitCode.OK.code();
  }
}
