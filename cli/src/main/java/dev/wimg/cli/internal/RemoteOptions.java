package dev.wimg.cli.internal;

import dev.wimg.cli.ExitCode;
import dev.wimg.client.WimgClient;
import dev.wimg.client.WimgException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Option;

/** Options of the commands that talk to a running server. */
public final class RemoteOptions {

  /** The server the client commands talk to when neither flag, WIMG_SERVER nor config names one. */
  public static final String DEFAULT_SERVER = "http://127.0.0.1:9333";
  /**
   * Limit from sending a task request to its answer's headers: a poll every 500 ms does not need
   * the client's minutes, and a tracker this slow counts as not answering.
   */
  static final Duration TASK_REQUEST_TIMEOUT = Duration.ofSeconds(10);

  /*
   * The description names the built-in default itself rather than ${DEFAULT-VALUE}, which picocli
   * fills from WIMG_SERVER or the config file when set; one line per element keeps the URL whole.
   */
  @Option(names = "--server", paramLabel = "URL[,URL...]", defaultValue = DEFAULT_SERVER,
      converter = ServerUrlConverter.class,
      description = {"WIMG server or tracker to talk to; a comma-separated",
          "list is tried in order, moving on when one cannot be",
          "reached or answers 502, 503 or 504.",
          "Default: " + DEFAULT_SERVER, "Environment: WIMG_SERVER."})
  private ServerList servers;

  @Option(names = {"--key", "--write-key"}, paramLabel = "KEY",
      description = "Write key, sent as a bearer token with uploads, deletes and new distribution "
          + "tasks (env WIMG_WRITE_KEY, which other users cannot see in ps, unlike the flag).")
  private String key;

  /** The base URLs to try, in order. */
  public List<URI> servers() {
    return servers.urls();
  }

  /**
   * The failure to report for {@code cause}. A refused write key ({@code 401}/{@code 403}) is
   * told apart by whether this command sent a key: a wrong key and a missing one need different
   * fixes.
   */
  public CliFailure explain(Throwable cause) {
    if (cause instanceof WimgException e && (e.status() == 401 || e.status() == 403)) {
      return new CliFailure(ExitCode.SERVER_ERROR, key != null && !key.isBlank()
          ? "the server refused the write key (" + e.status() + ")"
          : "this server needs a write key: pass --key or set WIMG_WRITE_KEY", e);
    }
    return CliFailure.of(cause);
  }

  /** A new client of {@link #servers()}; close it. */
  public WimgClient connect() {
    return connect(WimgClient.DEFAULT_STREAMS, true);
  }

  /**
   * A client for the distribution-task commands ({@link WimgClient#distribute} and the task
   * calls), whose requests time out after {@link #TASK_REQUEST_TIMEOUT}; close it.
   */
  WimgClient taskClient() {
    return WimgClient.builder(servers.urls()).writeKey(key).requestTimeout(TASK_REQUEST_TIMEOUT).build();
  }

  /**
   * {@link #explain} for a distribution-task request ({@code request}, such as
   * {@code POST /tasks}) that {@code answered} answered: a {@code 405} to the {@code POST}, or a
   * {@code 400} to a {@code GET} (it read {@code tasks} as a fid), shows a single server, not a
   * tracker, and says so.
   */
  CliFailure explainTask(Throwable cause, String request, URI answered) {
    if (cause instanceof WimgException e
        && (e.status() == 405 || (e.status() == 400 && request.startsWith("GET ")))) {
      return new CliFailure(ExitCode.SERVER_ERROR, answered + " is not a tracker (" + request + ": "
          + e.serverMessage() + "); distribution tasks are kept by trackers: point --server or WIMG_SERVER "
          + "at one (HTTP " + e.status() + ")", e);
    }
    return explain(cause);
  }

  /**
   * A client whose large transfers use {@code streams} parallel streams, sharing the work
   * adaptively or not ({@link WimgClient.Builder#adaptiveTransfers}).
   */
  public WimgClient connect(int streams, boolean adaptive) {
    return WimgClient.builder(servers.urls()).writeKey(key).transferStreams(streams)
        .adaptiveTransfers(adaptive).build();
  }
}
