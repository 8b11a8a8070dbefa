package dev.wimg.client;

import static dev.wimg.client.StandIns.closedPort;
import static dev.wimg.client.StandIns.reply;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How a client of several URLs chooses among them: which failures make it move on, which answers
 * are final, where the next call starts, what it says when all fail, and how it reads a tracker's
 * {@code /cluster}. The servers here are small stand-ins that give exactly the answer under test
 * (a {@code 503}, a {@code 500}, a redirect loop); failover and redirects against the real server
 * are tested in the cli module ({@code ServerListTest}).
 */
class WimgClientFailoverTest {

  private static final String ACK =
      "{\"fid\":\"1-1,109c2ab3e\",\"url\":\"/1-1,109c2ab3e\",\"size\":5,\"mime\":null,\"etag\":\"\\\"1\\\"\"}";

  private final StandIns standIns = new StandIns();

  @AfterEach
  void stopStandIns() {
    standIns.close();
  }

  @Test
  void uploadMovesOnPastA503AndTheNextCallStartsWithTheServerThatAnswered() throws IOException {
    List<String> busySaw = new CopyOnWriteArrayList<>();
    List<String> okSaw = new CopyOnWriteArrayList<>();
    URI busy = standIns.start(ex -> {
      busySaw.add(ex.getRequestMethod() + " " + ex.getRequestURI());
      reply(ex, 503, "application/json", "{\"error\":\"overloaded\",\"status\":503}");
    });
    URI ok = standIns.start(ex -> {
      byte[] body = ex.getRequestBody().readAllBytes();
      okSaw.add(ex.getRequestMethod() + " " + ex.getRequestURI() + " " + new String(body, StandardCharsets.UTF_8));
      if (ex.getRequestMethod().equals("POST")) {
        reply(ex, 201, "application/json", ACK);
      } else {
        reply(ex, 200, "application/json", "{\"version\":\"x\"}");
      }
    });
    // The URL list alone: no /cluster request (WimgClientDirectTest) comes before the upload.
    try (WimgClient client = WimgClient.builder(List.of(busy, ok)).directToNodes(false).build()) {
      assertThat(client.server()).isEqualTo(busy);

      UploadResult r = client.upload("hello".getBytes(StandardCharsets.UTF_8), "h.txt", "text/plain");

      assertThat(r.fid()).isEqualTo("1-1,109c2ab3e");
      assertThat(client.server()).isEqualTo(ok);
      assertThat(client.urlOf(r)).isEqualTo(URI.create(ok + "/1-1,109c2ab3e"));
      assertThat(client.status().get("version").asText()).isEqualTo("x");
    }
    assertThat(busySaw).containsExactly("POST /files?name=h.txt");
    assertThat(okSaw).containsExactly("POST /files?name=h.txt hello", "GET /status ");
  }

  @Test
  void a500OrA4xxIsTheAnswerAndTheNextServerIsNotAsked() throws IOException {
    List<String> secondSaw = new CopyOnWriteArrayList<>();
    URI failing = standIns.start(ex -> {
      if (ex.getRequestMethod().equals("DELETE")) {
        reply(ex, 404, "application/json", "{\"error\":\"file not found\",\"status\":404}");
      } else {
        reply(ex, 500, "application/json", "{\"error\":\"stored bytes fail their checksum\",\"status\":500}");
      }
    });
    URI second = standIns.start(ex -> {
      secondSaw.add(ex.getRequestMethod() + " " + ex.getRequestURI());
      reply(ex, 200, "application/octet-stream", "bytes");
    });
    try (WimgClient client = WimgClient.builder(List.of(failing, second)).build()) {
      assertThatThrownBy(() -> client.download("1-1,109c2ab3e"))
          .isInstanceOfSatisfying(WimgException.class, e -> assertThat(e.status()).isEqualTo(500));
      assertThat(client.delete("1-1,109c2ab3e")).isFalse();
      assertThat(client.server()).isEqualTo(failing);
    }
    assertThat(secondSaw).isEmpty();
  }

  @Test
  void whenEveryServerFailsTheErrorNamesEachAndWhy() throws IOException {
    URI refused = URI.create("http://127.0.0.1:" + closedPort());
    URI gateway = standIns.start(ex -> reply(ex, 502, "text/plain", "no storage node answered"));
    URI unavailable = standIns.start(ex ->
        reply(ex, 503, "application/json", "{\"error\":\"group 1 has no live member\",\"status\":503}"));
    try (WimgClient client = WimgClient.builder(List.of(refused, gateway, unavailable)).build()) {
      assertThatThrownBy(() -> client.upload(new byte[5], "five.bin", null))
          .isInstanceOfSatisfying(ServerUnreachableException.class, e -> {
            assertThat(e.attempts()).containsExactly(
                new ServerUnreachableException.Attempt(refused, "connection refused"),
                new ServerUnreachableException.Attempt(gateway,
                    "unexpected answer: no storage node answered (HTTP 502)"),
                new ServerUnreachableException.Attempt(unavailable, "group 1 has no live member (HTTP 503)"));
            assertThat(e.server()).isEqualTo(unavailable);
            assertThat(e).hasMessage("cannot reach any of 3 WIMG servers: "
                + refused + ": connection refused; "
                + gateway + ": unexpected answer: no storage node answered (HTTP 502); "
                + unavailable + ": group 1 has no live member (HTTP 503)");
          });
    }
  }

  @Test
  void aRedirectToAnUnreachableNodeIsAFailureOfTheUrlThatRedirected() throws IOException {
    URI node = URI.create("http://127.0.0.1:" + closedPort());
    URI tracker = standIns.start(ex -> {
      ex.getResponseHeaders().set("Location", node + ex.getRequestURI().toString());
      reply(ex, 307, null, "");
    });
    URI refused = URI.create("http://127.0.0.1:" + closedPort());
    try (WimgClient client = WimgClient.builder(List.of(tracker, refused)).build()) {
      assertThatThrownBy(() -> client.download("1-1,109c2ab3e"))
          .isInstanceOf(ServerUnreachableException.class)
          .hasMessage("cannot reach any of 2 WIMG servers: " + tracker + ": redirected to " + node
              + ": connection refused; " + refused + ": connection refused");
    }
  }

  @Test
  void aRedirectLoopEndsWithAnErrorAfterTheLimit() throws IOException {
    List<String> seen = new CopyOnWriteArrayList<>();
    URI[] self = new URI[1];
    self[0] = standIns.start(ex -> {
      seen.add(ex.getRequestURI().toString());
      ex.getResponseHeaders().set("Location", self[0] + ex.getRequestURI().toString());
      reply(ex, 307, null, "");
    });
    try (WimgClient client = WimgClient.builder(self[0]).directToNodes(false).build()) {
      assertThatThrownBy(() -> client.delete("1-1,109c2ab3e"))
          .isInstanceOf(IOException.class)
          .hasMessage("DELETE " + self[0] + "/1-1,109c2ab3e was redirected more than "
              + WimgClient.MAX_REDIRECTS + " times");
    }
    assertThat(seen).hasSize(WimgClient.MAX_REDIRECTS + 1);
  }

  @Test
  void clusterIsReadFromATrackerAndEmptyFromASingleServer() throws IOException {
    URI tracker = standIns.start(ex -> reply(ex, 200, "application/json", """
        {"groups":[{"id":2,"writable":false,"future":[1],"members":[
           {"id":"3f1c0a9b77","url":"http://127.0.0.1:9401","zone":"eu","state":"catching-up",
            "freeBytes":1024,"load":0.5,"needles":42,"silentMillis":310,"volumes":[]},
           {"url":"http://127.0.0.1:9402","state":"down"}]}],
         "trackers":["http://127.0.0.1:9400"]}"""));
    URI single = standIns.start(ex ->
        reply(ex, 404, "application/json", "{\"error\":\"no such resource\",\"status\":404}"));
    try (WimgClient client = WimgClient.create(tracker)) {
      ClusterView view = client.cluster().orElseThrow();
      assertThat(view.trackers()).containsExactly(URI.create("http://127.0.0.1:9400"));
      assertThat(view.groups()).containsExactly(new ClusterView.Group(2, false, List.of(
          new ClusterView.Member("3f1c0a9b77", URI.create("http://127.0.0.1:9401"), "eu",
              ClusterView.Member.CATCHING_UP, 1024, 0.5, 42, 310),
          new ClusterView.Member("", URI.create("http://127.0.0.1:9402"), "", ClusterView.Member.DOWN,
              -1, Double.NaN, -1, -1))));
      assertThat(view.document().path("groups").get(0).path("future").get(0).asInt()).isEqualTo(1);
    }
    try (WimgClient client = WimgClient.create(single)) {
      assertThat(client.cluster()).isEmpty();
    }
  }

  @Test
  void clusterDocumentWithoutMemberStateIsRefusedNamingTheField() throws IOException {
    URI tracker = standIns.start(ex -> reply(ex, 200, "application/json",
        "{\"groups\":[{\"id\":1,\"members\":[{\"url\":\"http://127.0.0.1:9401\"}]}]}"));
    try (WimgClient client = WimgClient.create(tracker)) {
      assertThatThrownBy(client::cluster)
          .isInstanceOf(IOException.class)
          .hasMessage("server " + tracker + " answered /cluster with an unexpected document: "
              + "groups[0].members[0].state must be a text");
    }
  }

  @Test
  void serverListMustBeNonEmptyAndHaveNoUrlTwice() {
    assertThatThrownBy(() -> WimgClient.builder(List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("at least one server URL is needed");
    assertThatThrownBy(() -> WimgClient.builder(List.of(URI.create("http://a:1"), URI.create("http://a:1/"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("server URL http://a:1 is listed twice");
    assertThatThrownBy(() -> WimgClient.builder(List.of(URI.create("http://a:1"), URI.create("a:2"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("server URL must start with http:// or https://, got a:2");
  }
}
