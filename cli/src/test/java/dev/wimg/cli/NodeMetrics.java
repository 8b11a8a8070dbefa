package dev.wimg.cli;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.function.Predicate;

/** What the tests read of a running node's {@code /metrics} (Prometheus text), and free ports for the nodes they start. */
final class NodeMetrics {

  private NodeMetrics() {}

  /** The sum of the samples whose line {@code line} accepts (a name, labels included). */
  static long sum(HttpClient http, URI node, Predicate<String> line) throws Exception {
    String metrics = http.send(HttpRequest.newBuilder(node.resolve("/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    return metrics.lines().filter(l -> !l.startsWith("#") && line.test(l))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  /** Bytes of HTTP bodies {@code node} sent. */
  static long sentBytes(HttpClient http, URI node) throws Exception {
    return sum(http, node, l -> l.startsWith("wimg_http_sent_bytes_total"));
  }

  /** Bytes of HTTP bodies {@code node} received. */
  static long receivedBytes(HttpClient http, URI node) throws Exception {
    return sum(http, node, l -> l.startsWith("wimg_http_received_bytes_total"));
  }

  /** {@code node}'s open HTTP connections, that of this request included. */
  static long openConnections(HttpClient http, URI node) throws Exception {
    return sum(http, node, l -> l.startsWith("wimg_http_connections "));
  }

  /** Responses {@code node} sent to {@code method} requests with {@code status}. */
  static long responses(HttpClient http, URI node, String method, int status) throws Exception {
    return sum(http, node, l -> l.startsWith("wimg_http_requests_total{")
        && l.contains("method=\"" + method + "\"") && l.contains("status=\"" + status + "\""));
  }

  /** A TCP port free on this machine now. */
  static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
