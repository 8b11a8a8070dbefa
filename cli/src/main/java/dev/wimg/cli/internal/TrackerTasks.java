package dev.wimg.cli.internal;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.wimg.client.ServerUnreachableException;
import dev.wimg.client.WimgClient;
import dev.wimg.client.WimgException;
import dev.wimg.protocol.TaskStatus;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The distribution-task endpoints of a tracker (docs/DISTRIBUTION.md, Model) over HTTP:
 * {@code POST /tasks} (with the write key), {@code GET /tasks} and {@code GET /tasks/<id>}. Answers
 * are read as {@link TaskStatus}, ignoring fields this build does not know and refusing a version
 * it cannot read.
 *
 * <p>Failures take the forms {@link WimgClient}'s do, so that {@link CliFailure#of} and
 * {@link RemoteOptions#explain} map them to the same exit codes and messages:
 *
 * <ul>
 *   <li>{@link WimgException} for an error answer, with the tracker's {@code error} text; an
 *       answer that shows the URL is a single server, not a tracker ({@code 405} to the
 *       {@code POST}, {@code 400} to a {@code GET}: it read {@code tasks} as a fid), says so;
 *   <li>{@link ServerUnreachableException} when no URL took the request (below): no task was made;
 *   <li>{@link BrokenExchangeException} when the exchange broke after the request was sent, and
 *       {@link HttpTimeoutException} when no answer came within {@link #REQUEST_TIMEOUT};
 *   <li>a plain {@link IOException} for an answer that is not what the API promises.
 * </ul>
 *
 * <p>With several URLs (trackers), a request goes to them as {@code --server} promises and
 * {@link WimgClient} does it: from the one that answered last, moving on when one cannot be
 * connected to or answers {@code 502}, {@code 503} or {@code 504}. Those answers mean no task was
 * made, so a {@code POST} sent on cannot make a second one; one whose exchange broke after it was
 * sent is not sent again, as it might have made one. When every URL failed so, a client of one URL throws that failure
 * (a tracker's {@code 503}, "no live target", stays a {@link WimgException}), a client of several a
 * {@link ServerUnreachableException} naming each. Every tracker knows every task (targets report
 * to all of them), so whichever answers a {@code GET} is as good as any.
 *
 * <p>Not thread-safe: one command, one request at a time.
 *
 * <p>Implementation notes: {@link WimgClient} has no call for these endpoints and its request
 * plumbing is private to it, so this is the least of it the task commands need: one request, no
 * redirects, JSON in and out. Once the client has task calls, the commands should use them.
 */
final class TrackerTasks implements AutoCloseable {

  /**
   * Limit from sending a request to receiving its answer's headers. A poll every 500 ms does not
   * need the client's minutes; a tracker this slow counts as not answering.
   */
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
  /** Largest JSON answer read, bytes: {@code GET /tasks} lists every task the tracker knows. */
  static final int MAX_BODY_BYTES = 16 << 20;
  /** Bytes of an error answer read to build its message; the rest is discarded. */
  private static final int MAX_ERROR_BODY_BYTES = 64 << 10;
  /** Characters of tracker text quoted in a message. */
  private static final int SNIPPET_CHARS = 200;
  /**
   * What a task id may look like (the tracker makes 32 hex digits): it goes into a URL path, so
   * nothing that needs escaping or could step out of {@code /tasks/}.
   */
  private static final Pattern TASK_ID = Pattern.compile("[0-9A-Za-z_-]{1,128}");

  private final List<URI> servers;
  private final String writeKey;
  private final HttpClient http;
  private final ObjectMapper json = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
  /** Index in {@link #servers} of the URL that answered last. */
  private int preferred;

  /**
   * @param servers  base URLs as {@link ServerList} checked them, tried in order
   * @param writeKey sent as {@code Authorization: Bearer} with {@code POST /tasks}; null for none
   */
  TrackerTasks(List<URI> servers, String writeKey) {
    this.servers = List.copyOf(servers);
    this.writeKey = writeKey;
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(WimgClient.DEFAULT_CONNECT_TIMEOUT)
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
  }

  /** The exchange broke after the request was sent (connection reset or closed): no answer came. */
  static final class BrokenExchangeException extends IOException {
    BrokenExchangeException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * An answer: the JSON object a tracker sent.
   *
   * @param server   base URL of the tracker that answered
   * @param request  method and path, for messages
   * @param document the body
   * @param location the {@code Location} header, or null
   */
  record Answer(URI server, String request, JsonNode document, String location) {}

  /** A task just made: its id and the status the tracker answered with. */
  record Created(String id, TaskStatus status) {}

  /** Whether {@code id} can be a task id (see {@link #TASK_ID}). */
  static boolean isTaskId(String id) {
    return id != null && TASK_ID.matcher(id).matches();
  }

  /** The base URL that answered last (before any request, the first). */
  URI server() {
    return servers.get(preferred);
  }

  /**
   * {@code POST /tasks}: asks for {@code fid} to be copied to {@code targets}.
   *
   * @param targets as {@link TaskTargetConverter} checked them
   */
  Created create(String fid, List<String> targets) throws IOException {
    ObjectNode body = json.createObjectNode();
    body.put("fid", fid);
    ArrayNode to = body.putArray("targets");
    targets.forEach(to::add);
    Answer answer = exchange("POST", "/tasks", json.writeValueAsBytes(body));
    TaskStatus status = status(answer);
    String id = status.id();
    String location = answer.location();
    if (location != null && location.contains("/tasks/")) {
      // The Location is the task's address; the body's id is the same, but the address is what is polled.
      String fromLocation = location.substring(location.lastIndexOf("/tasks/") + "/tasks/".length()).strip();
      if (!isTaskId(fromLocation)) {
        throw new IOException("tracker " + answer.server() + " answered POST /tasks with Location "
            + snippet(location) + ", which names no task");
      }
      id = fromLocation;
    }
    return new Created(id, status);
  }

  /** {@code GET /tasks}: {@code {"tasks": [...]}}, as sent; read it with {@link #statuses}. */
  Answer list() throws IOException {
    return exchange("GET", "/tasks", null);
  }

  /** {@code GET /tasks/<id>}: the task as sent; read it with {@link #status}. */
  Answer task(String id) throws IOException {
    if (!isTaskId(id)) {
      throw new IllegalArgumentException("not a task id: " + id);
    }
    return exchange("GET", "/tasks/" + id, null);
  }

  /** The task {@link #task} answered, read. */
  TaskStatus status(Answer answer) throws IOException {
    return read(answer.document(), answer);
  }

  /** The tasks {@link #list} answered, read, in the tracker's order. */
  List<TaskStatus> statuses(Answer answer) throws IOException {
    JsonNode tasks = answer.document().get("tasks");
    if (tasks == null || !tasks.isArray()) {
      throw unexpected(answer, "without a tasks array");
    }
    List<TaskStatus> statuses = new ArrayList<>(tasks.size());
    for (JsonNode task : tasks) {
      statuses.add(read(task, answer));
    }
    return statuses;
  }

  @Override
  public void close() {
    http.close();
  }

  private TaskStatus read(JsonNode node, Answer answer) throws IOException {
    if (!node.isObject()) {
      throw unexpected(answer, "with a task that is not a JSON object");
    }
    int version = node.path("version").asInt(-1);
    if (version != TaskStatus.VERSION) {
      throw new IOException("tracker " + answer.server() + " answered " + answer.request() + " with a task of version "
          + (node.has("version") ? snippet(node.get("version").toString()) : "(none)") + "; this wimg reads version "
          + TaskStatus.VERSION + " (is the tracker older or newer than this wimg?)");
    }
    TaskStatus status;
    try {
      status = json.treeToValue(node, TaskStatus.class);
    } catch (JacksonException e) {
      throw unexpected(answer, "with a task it cannot read (" + snippet(e.getOriginalMessage()) + ")", e);
    }
    if (!isTaskId(status.id()) || status.fid() == null || status.state() == null
        || status.targets().stream().anyMatch(t -> t.state() == null)) {
      throw unexpected(answer, "with a task without an id, fid or state: " + snippet(node.toString()));
    }
    return status;
  }

  /**
   * Sends {@code method path} to each URL in turn from {@link #preferred} until one takes it (see
   * the class comment), and returns its answer if it is a {@code 2xx} with a JSON object.
   */
  private Answer exchange(String method, String path, byte[] body) throws IOException {
    int n = servers.size();
    List<ServerUnreachableException.Attempt> attempts = new ArrayList<>(n);
    IOException last = null;
    for (int i = 0; i < n; i++) {
      int index = (preferred + i) % n;
      URI base = servers.get(index);
      HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
          .timeout(REQUEST_TIMEOUT)
          .header("User-Agent", "wimg-cli")
          .header("Accept", "application/json");
      if (body == null) {
        request.GET();
      } else {
        request.header("Content-Type", "application/json").POST(BodyPublishers.ofByteArray(body));
        if (writeKey != null) {
          request.header("Authorization", "Bearer " + writeKey);
        }
      }
      HttpResponse<InputStream> response;
      try {
        response = http.send(request.build(), BodyHandlers.ofInputStream());
      } catch (ConnectException | HttpConnectTimeoutException e) {
        ServerUnreachableException unreachable = new ServerUnreachableException(base, reason(e), e);
        attempts.add(unreachable.attempts().getFirst());
        last = unreachable;
        continue;
      } catch (HttpTimeoutException e) {
        throw new HttpTimeoutException(method + " " + base + path + ": no answer within "
            + REQUEST_TIMEOUT.toSeconds() + " s");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException(method + " " + base + path + " interrupted");
      } catch (IOException e) {
        throw new BrokenExchangeException(method + " " + base + path + " failed: " + reason(e), e);
      }
      try {
        Answer answer = answer(base, method + " " + path, response);
        preferred = index;
        return answer;
      } catch (WimgException e) {
        if (!notCarriedOut(e.status())) {
          preferred = index;
          throw e;
        }
        attempts.add(new ServerUnreachableException.Attempt(base, e.getMessage()));
        last = e;
      }
    }
    throw attempts.size() == 1 ? last : new ServerUnreachableException(attempts, last);
  }

  /** Whether an answer means the request was not carried out, so that another URL may take it. */
  private static boolean notCarriedOut(int status) {
    return status == 502 || status == 503 || status == 504;
  }

  private Answer answer(URI base, String request, HttpResponse<InputStream> response) throws IOException {
    byte[] bytes;
    int status = response.statusCode();
    boolean ok = status / 100 == 2;
    try (InputStream in = response.body()) {
      bytes = in.readNBytes((ok ? MAX_BODY_BYTES : MAX_ERROR_BODY_BYTES) + 1);
    } catch (IOException e) {
      throw new BrokenExchangeException(request + " on " + base + " broke off: " + reason(e), e);
    }
    if (!ok) {
      throw error(base, request, status, bytes);
    }
    Answer answer = new Answer(base, request, null, response.headers().firstValue("Location").orElse(null));
    if (bytes.length > MAX_BODY_BYTES) {
      throw unexpected(answer, "with more than " + MAX_BODY_BYTES + " bytes of JSON");
    }
    JsonNode node;
    try {
      node = json.readTree(bytes);
    } catch (JacksonException e) {
      throw unexpected(answer, "with invalid JSON: " + snippet(new String(bytes, StandardCharsets.UTF_8)), e);
    }
    if (node == null || !node.isObject()) {
      throw unexpected(answer, "with something other than a JSON object: "
          + snippet(new String(bytes, StandardCharsets.UTF_8)));
    }
    return new Answer(base, request, node, answer.location());
  }

  /** The exception for an error answer: its JSON {@code error} text, else a piece of the body. */
  private WimgException error(URI base, String request, int status, byte[] body) {
    String message = null;
    try {
      JsonNode node = json.readTree(body);
      if (node != null && node.path("error").isTextual()) {
        message = snippet(node.get("error").asText());
      }
    } catch (IOException notJson) {
      // Not a WIMG error (a proxy's page, say): described from its text below.
    }
    if (message == null) {
      String text = new String(body, 0, Math.min(body.length, MAX_ERROR_BODY_BYTES), StandardCharsets.UTF_8).strip();
      message = text.isEmpty() ? "error answer without a body" : "unexpected answer: " + snippet(text);
    }
    boolean notATracker = status == 405 || (status == 400 && request.startsWith("GET "));
    if (notATracker) {
      // A single server has no /tasks: it refuses the POST's method, and reads GET /tasks as a fid.
      message = base + " is not a tracker (" + request + ": " + message + "); distribution tasks "
          + "are kept by trackers: point --server or WIMG_SERVER at one";
    }
    return new WimgException(status, message);
  }

  private static IOException unexpected(Answer answer, String what) {
    return unexpected(answer, what, null);
  }

  private static IOException unexpected(Answer answer, String what, Throwable cause) {
    return new IOException("tracker " + answer.server() + " answered " + answer.request() + " " + what, cause);
  }

  /** Tracker text for a message: control characters replaced, at most {@link #SNIPPET_CHARS}. */
  private static String snippet(String s) {
    if (s == null) {
      return "null";
    }
    String text = TextTable.printable(s.length() > SNIPPET_CHARS ? s.substring(0, SNIPPET_CHARS) : s);
    return s.length() > SNIPPET_CHARS ? text + "..." : text;
  }

  /** Why a connection or an exchange failed, as {@link WimgClient}'s messages say it. */
  private static String reason(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof UnresolvedAddressException) {
        return "unknown host";
      }
      if (t instanceof HttpConnectTimeoutException) {
        return "connect timed out";
      }
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        return t.getMessage().toLowerCase(Locale.ROOT);
      }
    }
    // The JDK reports a refused connect as a ConnectException without a message.
    return e instanceof ConnectException ? "connection refused" : e.getClass().getSimpleName();
  }
}
