package dev.wimg.cli.internal;

import dev.wimg.cli.ExitCode;
import dev.wimg.client.WimgClient;
import dev.wimg.protocol.TargetState;
import dev.wimg.protocol.TaskStatus;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code wimg distribute FID --to TARGET... [--wait]}: asks a tracker to copy a large file to the
 * nodes its targets name ({@code POST /tasks}, with the write key; docs/DISTRIBUTION.md). The
 * targets fetch the file's pieces from each other as well as from the file's group; the tracker
 * only coordinates. Prints the task's id, one line.
 *
 * <p>With {@code --wait} it prints no id but follows the task ({@link TaskWatch}): a progress bar
 * on a terminal ({@link TaskProgress}), nothing otherwise, and once every target is done one line,
 * {@code task <id>: <n> targets done in <s> s, source sent <x.xx> copies}. If a target failed,
 * each failed one is named on stderr with its reason and the exit code is
 * {@link ExitCode#TASK_FAILED}. Stopping the wait (Ctrl-C, or the tracker lost for 30 s) does not
 * stop the task.
 *
 * <p>The request is {@link WimgClient#distribute}: the {@code POST} is not sent again once it may
 * have reached a tracker, as it could make a second task (the client's class comment says which
 * failures move on to the next URL). A target's shape is checked before
 * ({@link TaskTargetConverter}); errors are mapped as the other client commands map them
 * ({@link RemoteOptions#explainTask}): a single server instead of a tracker is named so, no such fid is
 * {@link ExitCode#NOT_FOUND}, a refused key and the tracker's other refusals ({@code 400} bad
 * target, {@code 422} a file stored whole, {@code 503} no reader or no live target)
 * {@link ExitCode#SERVER_ERROR}, no tracker {@link ExitCode#UNREACHABLE}.
 */
@Command(name = "distribute", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    sortOptions = false,
    description = {"Copy a large file (over 8 MiB) to other storage nodes: a tracker makes a",
        "distribution task, and its targets fetch the file's pieces from each other as",
        "well as from the file's own group. Prints the task id; 'wimg tasks ID' shows",
        "the task. --server must name a tracker."})
final class DistributeCommand implements Callable<Integer> {

  private final Environment environment;

  @Spec
  private CommandSpec spec;

  @Mixin
  private RemoteOptions remote;

  @Option(names = "--to", paramLabel = "TARGET", required = true, converter = TaskTargetConverter.class,
      description = {"Where copies go; repeat for several: zone:NAME (every",
          "live node of the zone), group:N (every live member of",
          "storage group N) or node:ID (one node)."})
  private List<String> targets;

  @Option(names = "--wait",
      description = {"Wait until the task ends, with a progress bar on a",
          "terminal; then print 'task ID: N targets done in S s,",
          "source sent X copies', or name each failed target on",
          "stderr and exit 9. Stopping the wait does not stop",
          "the task."})
  private boolean waitForEnd;

  @Parameters(paramLabel = "FID", description = "The file id printed by upload.")
  private String fid;

  DistributeCommand(Environment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() throws IOException, InterruptedException {
    String id = FidArgument.check(spec, fid);
    long started = System.nanoTime();
    try (WimgClient client = remote.taskClient()) {
      TaskStatus created;
      try {
        created = client.distribute(id, targets);
      } catch (IOException e) {
        throw remote.explainTask(e, "POST /tasks", client.server());
      }
      String task = created.id();
      if (!waitForEnd) {
        return print(task);
      }
      TaskStatus end;
      try (TaskProgress progress = TaskProgress.of(environment, task)) {
        end = new TaskWatch(task, () -> client.task(task), TaskWatch.SYSTEM)
            .untilEnded(created, progress::update);
      } catch (IOException e) {
        throw CliFailure.of("task " + task, remote.explain(e));
      }
      if (end.state().equals(TargetState.DONE.token())) {
        return print(TaskTable.summary(end, Duration.ofNanos(System.nanoTime() - started)));
      }
      return failed(end);
    }
  }

  /** Prints {@code line} on stdout; {@link ExitCode#OK} if it got there. */
  private int print(String line) {
    environment.out().println(line);
    if (environment.outputLost()) {
      throw new CliFailure(ExitCode.FAILURE, "cannot write to stdout: " + Environment.STDOUT_LOST);
    }
    return ExitCode.OK.code();
  }

  /** Names the task and each failed target on stderr; {@link ExitCode#TASK_FAILED}. */
  private int failed(TaskStatus end) {
    PrintStream err = environment.err();
    List<String> failures = TaskTable.failures(end);
    err.println(spec.qualifiedName() + ": task " + TextTable.printable(end.id()) + " " + TextTable.printable(end.state())
        + ": " + failures.size() + " of " + end.targets().size() + " targets failed, "
        + TaskTable.targetsDone(end) + " done");
    for (String failure : failures) {
      err.println(spec.qualifiedName() + ": " + failure);
    }
    err.flush();
    return ExitCode.TASK_FAILED.code();
  }
}
