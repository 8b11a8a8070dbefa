package dev.wimg.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A test network of real Linux network namespaces (root only): a bridge {@code wimg-d-br} at
 * {@code 10.78.0.1/24} in this namespace, and one namespace per node, {@code wimg-dN}, joined to
 * the bridge by a veth pair ({@code wimg-dN-br} on the bridge, {@code wimg-dN-in} inside, address
 * {@code 10.78.0.(10+N)}), whose inside end sends through {@code tc tbf} at a given rate: what a
 * node sends, to anyone, leaves at that rate, and its qdisc counts the bytes. The bridge floods
 * multicast to every namespace (no snooping), as a LAN switch without IGMP snooping does. {@link #close}
 * removes everything this lab made; a leftover of a killed run is removed first.
 */
final class NetLab implements AutoCloseable {

  /** The bridge's address: where processes of this namespace listen for the nodes. */
  static final String HOST = "10.78.0.1";
  private static final String BRIDGE = "wimg-d-br";
  private static final String PREFIX = "wimg-d";

  private final int nodes;

  private NetLab(int nodes) {
    this.nodes = nodes;
  }

  /**
   * Makes the bridge and {@code nodes} namespaces, each sending at most {@code mbit} Mbit/s.
   *
   * @throws IOException when a command fails (its output in the message)
   */
  static NetLab create(int nodes, int mbit) throws IOException, InterruptedException {
    removeLeftovers(nodes);
    NetLab lab = new NetLab(nodes);
    try {
      // without snooping the bridge floods multicast to every port: LAN discovery's queries
      run("ip", "link", "add", BRIDGE, "type", "bridge", "mcast_snooping", "0");
      run("ip", "addr", "add", HOST + "/24", "dev", BRIDGE);
      run("ip", "link", "set", BRIDGE, "up");
      for (int i = 0; i < nodes; i++) {
        String ns = namespace(i);
        run("ip", "netns", "add", ns);
        run("ip", "link", "add", ns + "-br", "type", "veth", "peer", "name", ns + "-in", "netns", ns);
        run("ip", "link", "set", ns + "-br", "master", BRIDGE, "up");
        run("ip", "-n", ns, "link", "set", "lo", "up");
        run("ip", "-n", ns, "addr", "add", address(i) + "/24", "dev", ns + "-in");
        run("ip", "-n", ns, "link", "set", ns + "-in", "up");
        run("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", ns + "-in", "root", "tbf", "rate", mbit + "mbit",
            "burst", "256kb", "latency", "50ms");
      }
      return lab;
    } catch (IOException | InterruptedException | RuntimeException e) {
      lab.close();
      throw e;
    }
  }

  static String namespace(int node) {
    return PREFIX + node;
  }

  /** Node {@code node}'s address. */
  static String address(int node) {
    return "10.78.0." + (10 + node);
  }

  /** Bytes node {@code node} has sent so far (its tbf qdisc's counter). */
  long sentBytes(int node) throws IOException, InterruptedException {
    String ns = namespace(node);
    String out = run("ip", "netns", "exec", ns, "tc", "-s", "qdisc", "show", "dev", ns + "-in");
    for (String line : out.split("\n")) {
      String t = line.trim();
      if (t.startsWith("Sent ")) {
        return Long.parseLong(t.split("\\s+")[1]);
      }
    }
    throw new IOException("no Sent counter in: " + out);
  }

  @Override
  public void close() {
    removeLeftovers(nodes);
  }

  /** Removes namespaces and links of this lab's names (the processes in them are killed first). */
  private static void removeLeftovers(int nodes) {
    for (int i = 0; i < Math.max(nodes, 16); i++) {
      String ns = namespace(i);
      try {
        for (String pid : run("ip", "netns", "pids", ns).split("\\s+")) {
          if (!pid.isBlank()) {
            ProcessHandle.of(Long.parseLong(pid.trim())).ifPresent(ProcessHandle::destroyForcibly);
          }
        }
        run("ip", "netns", "del", ns);
      } catch (IOException | InterruptedException | RuntimeException ignored) {
        // not there
      }
    }
    try {
      run("ip", "link", "del", BRIDGE);
    } catch (IOException | InterruptedException | RuntimeException ignored) {
      // not there
    }
  }

  /** Runs a command; its output, or an IOException with it when it fails. */
  static String run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(String.join(" ", command) + " did not end in 30 s");
    }
    String text = new String(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " exited " + p.exitValue() + ": " + text.trim());
    }
    return text;
  }

  /** The namespaces' names, for a message. */
  List<String> namespaces() {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < nodes; i++) {
      out.add(namespace(i));
    }
    return out;
  }
}
