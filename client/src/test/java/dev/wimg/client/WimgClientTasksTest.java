package dev.wimg.client;

import static dev.wimg.client.StandIns.closedPort;
import static dev.wimg.client.StandIns.reply;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import dev.wimg.protocol.TaskStatus;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The distribution-task calls ({@link WimgClient#distribute}, {@link WimgClient#task},
 * {@link WimgClient#tasks}, {@link WimgClient#cancelTask}) against stand-in trackers: what is sent,
 * how answers are read and refused, which failures move on to the next URL. The client module
 * cannot start a real tracker (it has no server code, in its tests neither); the calls against
 * real tracker and storage processes run under {@code wimg distribute} and {@code wimg tasks} in
 * the cli module.
 */
class WimgClientTasksTest {

  private static final String ID = "4f1c0a9b2d3e4f5061728394a5b6c7d8";
  private static final String FID = "1-1,109c2ab3e";
  /** A task as a tracker sends it, with a field and a target's {@code sources} this client does not read. */
  private static final String TASK = """
      {"version":1,"id":"%s","fid":"%s","size":268435456,"pieces":32,"created":1765000000000,
       "state":"running","sourceBytes":8388608,"sourceCopies":0.03125,"coordinator":"http://10.78.0.2:9330",
       "targets":[{"node":"90c4a1b2","url":"http://10.78.0.12:8080","zone":"edge","state":"fetching",
         "pieces":1,"bytes":8388608,"sourceBytes":8388608,"rate":24100000,"silentMillis":310,"reason":null,
         "sources":[{"node":"source:http://10.78.0.3:8080","bytes":8388608,"rate":12600000,"source":true}]}]}"""
      .formatted(ID, FID);
  private static final TaskStatus STATUS = new TaskStatus(1, ID, FID, 268435456L, 32, 1765000000000L, "running",
      8388608L, 0.03125, List.of(new TaskStatus.Target("90c4a1b2", "http://10.78.0.12:8080", "edge", "fetching", 1,
          8388608L, 8388608L, 24100000L, 310L, null)));

  private final StandIns standIns = new StandIns();

  @AfterEach
  void stopStandIns() {
    standIns.close();
  }

  @Test
  void distributeSendsTheFidAndTargetsWithTheWriteKeyAndReadsTheTaskMade() throws IOException {
    List<String> seen = new CopyOnWriteArrayList<>();
    URI tracker = standIns.start(ex -> {
      seen.add(requestLine(ex) + " " + ex.getRequestHeaders().getFirst("Content-Type") + " "
          + new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      ex.getResponseHeaders().set("Location", "/tasks/" + ID);
      reply(ex, 201, "application/json", TASK);
    });
    try (WimgClient client = WimgClient.builder(tracker).writeKey("s3cret").build()) {
      assertThat(client.distribute(FID, List.of("zone:edge", "node:90c4a1b2"))).isEqualTo(STATUS);
    }
    assertThat(seen).containsExactly("POST /tasks Bearer s3cret application/json "
        + "{\"fid\":\"" + FID + "\",\"targets\":[\"zone:edge\",\"node:90c4a1b2\"]}");
  }

  @Test
  void taskAndTasksAreReadWithoutAKeyAndTheirDocumentsKeepWhatTheClientDoesNotRead() throws IOException {
    List<String> seen = new CopyOnWriteArrayList<>();
    URI tracker = standIns.start(ex -> {
      seen.add(requestLine(ex));
      boolean list = ex.getRequestURI().getPath().equals("/tasks");
      reply(ex, 200, "application/json", list ? "{\"tasks\":[" + TASK + "]}" : TASK);
    });
    try (WimgClient client = WimgClient.builder(tracker).writeKey("s3cret").build()) {
      assertThat(client.task(ID)).isEqualTo(STATUS);
      assertThat(client.tasks()).containsExactly(STATUS);
      assertThat(client.taskDocument(ID).path("targets").get(0).path("sources").get(0).path("node").asText())
          .isEqualTo("source:http://10.78.0.3:8080");
      assertThat(client.tasksDocument().path("tasks").get(0).path("coordinator").asText())
          .isEqualTo("http://10.78.0.2:9330");
    }
    assertThat(seen).containsExactly("GET /tasks/" + ID + " null", "GET /tasks null", "GET /tasks/" + ID + " null",
        "GET /tasks null");
  }

  @Test
  void cancelTaskSendsDeleteWithTheKeyAndATaskTheTrackerDoesNotKnowIsA404() throws IOException {
    List<String> seen = new CopyOnWriteArrayList<>();
    URI tracker = standIns.start(ex -> {
      seen.add(requestLine(ex));
      if (ex.getRequestURI().getPath().equals("/tasks/" + ID)) {
        reply(ex, 204, null, "");
      } else {
        reply(ex, 404, "application/json", "{\"error\":\"no such task: 00ff\",\"status\":404}");
      }
    });
    try (WimgClient client = WimgClient.builder(tracker).writeKey("s3cret").build()) {
      client.cancelTask(ID);
      assertThatThrownBy(() -> client.cancelTask("00ff"))
          .isInstanceOfSatisfying(WimgException.class, e -> assertThat(e.status()).isEqualTo(404))
          .hasMessage("no such task: 00ff (HTTP 404)");
    }
    assertThat(seen).containsExactly("DELETE /tasks/" + ID + " Bearer s3cret", "DELETE /tasks/00ff Bearer s3cret");
  }

  @Test
  void refusalsAreWimgExceptionsWithTheTrackersText() throws IOException {
    URI tracker = standIns.start(ex -> reply(ex, 422, "application/json",
        "{\"error\":\"1-1,109c2ab3e is stored whole (a file under the chunk size), not in chunks\",\"status\":422}"));
    URI single = standIns.start(ex -> reply(ex, 405, "application/json",
        "{\"error\":\"method POST not allowed\",\"status\":405}"));
    try (WimgClient client = WimgClient.create(tracker)) {
      assertThatThrownBy(() -> client.distribute(FID, List.of("zone:edge")))
          .isInstanceOfSatisfying(WimgException.class, e -> assertThat(e.status()).isEqualTo(422))
          .hasMessage("1-1,109c2ab3e is stored whole (a file under the chunk size), not in chunks (HTTP 422)");
    }
    try (WimgClient client = WimgClient.create(single)) {
      assertThatThrownBy(() -> client.distribute(FID, List.of("zone:edge")))
          .isInstanceOfSatisfying(WimgException.class, e -> assertThat(e.serverMessage())
              .isEqualTo("method POST not allowed"));
    }
  }

  @Test
  void aTaskOfAnotherVersionOrWithoutAnIdIsRefusedNamingTheTracker() throws IOException {
    URI tracker = standIns.start(ex -> reply(ex, 200, "application/json", switch (ex.getRequestURI().getPath()) {
      case "/tasks" -> "{\"tasks\":[{\"version\":1,\"fid\":\"" + FID + "\",\"state\":\"running\",\"targets\":[]}]}";
      default -> TASK.replace("\"version\":1", "\"version\":2");
    }));
    URI notAList = standIns.start(ex -> reply(ex, 200, "application/json", "{\"tasks\":{}}"));
    try (WimgClient client = WimgClient.create(tracker)) {
      assertThatThrownBy(() -> client.task(ID))
          .isExactlyInstanceOf(IOException.class)
          .hasMessage("server " + tracker + " answered /tasks/" + ID + " with a task of version 2; this client "
              + "reads version 1 (is the tracker newer than this client?)");
      assertThatThrownBy(client::tasks)
          .isExactlyInstanceOf(IOException.class)
          .hasMessageStartingWith("server " + tracker + " answered /tasks with a task without an id, fid or state: ");
    }
    try (WimgClient client = WimgClient.create(notAList)) {
      assertThatThrownBy(client::tasks)
          .isExactlyInstanceOf(IOException.class)
          .hasMessage("server " + notAList + " answered /tasks without a tasks array: {\"tasks\":{}}");
    }
  }

  @Test
  void aTrackerThatCannotBeReachedOrAnswers503IsSkippedButAPostWhoseExchangeBrokeIsNotSentAgain() throws IOException {
    URI refused = URI.create("http://127.0.0.1:" + closedPort());
    List<String> busySaw = new CopyOnWriteArrayList<>();
    URI busy = standIns.start(ex -> {
      busySaw.add(ex.getRequestMethod() + " " + ex.getRequestURI());
      reply(ex, 503, "application/json", "{\"error\":\"tracker starting\",\"status\":503}");
    });
    List<String> okSaw = new CopyOnWriteArrayList<>();
    URI ok = standIns.start(ex -> {
      okSaw.add(ex.getRequestMethod() + " " + ex.getRequestURI());
      reply(ex, ex.getRequestMethod().equals("POST") ? 201 : 200, "application/json", TASK);
    });
    try (WimgClient client = WimgClient.builder(List.of(refused, busy, ok)).build()) {
      assertThat(client.distribute(FID, List.of("zone:edge"))).isEqualTo(STATUS);
      assertThat(client.server()).isEqualTo(ok);
      assertThat(client.task(ID)).isEqualTo(STATUS);
    }
    assertThat(busySaw).containsExactly("POST /tasks");
    assertThat(okSaw).containsExactly("POST /tasks", "GET /tasks/" + ID);

    okSaw.clear();
    AtomicInteger dropped = new AtomicInteger();
    try (ServerSocket dying = dropsEveryRequest(dropped);
         WimgClient client = WimgClient.builder(List.of(URI.create("http://127.0.0.1:" + dying.getLocalPort()), ok))
             .build()) {
      assertThatThrownBy(() -> client.distribute(FID, List.of("zone:edge")))
          .isInstanceOf(BrokenExchangeException.class)
          .hasMessageStartingWith("POST http://127.0.0.1:" + dying.getLocalPort() + "/tasks failed: ");
    }
    assertThat(dropped).hasValue(1);
    assertThat(okSaw).isEmpty();
  }

  @Test
  void aTaskIdOrFidThatCannotBeOneIsRefusedBeforeAnythingIsSent() throws IOException {
    List<String> paths = new CopyOnWriteArrayList<>();
    URI tracker = standIns.start(ex -> {
      paths.add(ex.getRequestURI().getRawPath());
      reply(ex, 204, null, "");
    });
    try (WimgClient client = WimgClient.create(tracker)) {
      assertThatThrownBy(() -> client.task("../files"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("not a task id: ../files (1 to 128 letters, digits, - and _)");
      assertThatThrownBy(() -> client.cancelTask("a/b")).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> client.taskDocument("")).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> client.distribute("../tasks", List.of("zone:edge")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("not a file id: ");
      assertThatThrownBy(() -> client.distribute(FID, List.of()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("a distribution needs at least one target");
    }
    assertThat(paths).isEmpty();
    assertThat(WimgClient.isTaskId(ID)).isTrue();
    assertThat(WimgClient.isTaskId("a b")).isFalse();
    assertThat(WimgClient.isTaskId(null)).isFalse();
  }

  /** Method, path with query, and the Authorization header (null if none) of a request. */
  private static String requestLine(HttpExchange ex) {
    return ex.getRequestMethod() + " " + ex.getRequestURI() + " " + ex.getRequestHeaders().getFirst("Authorization");
  }

  /**
   * A tracker that reads the start of each request and closes the connection without an answer,
   * as one that dies with the request in flight; counts the requests.
   */
  private static ServerSocket dropsEveryRequest(AtomicInteger requests) throws IOException {
    ServerSocket listener = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
    Thread.ofVirtual().start(() -> {
      while (true) {
        try (Socket s = listener.accept()) {
          requests.incrementAndGet();
          s.getInputStream().read(new byte[8192]);
        } catch (IOException closed) {
          return;
        }
      }
    });
    return listener;
  }
}
