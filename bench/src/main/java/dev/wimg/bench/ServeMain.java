package dev.wimg.bench;

import dev.wimg.server.NodeConfig;
import dev.wimg.server.ServerConfig;
import dev.wimg.server.StorageNode;
import dev.wimg.server.WimgServer;
import dev.wimg.storage.FsyncPolicy;
import dev.wimg.storage.StoreConfig;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Starts the all-in-one server for the load benchmarks ({@code serve-small.sh},
 * {@code upload-small.sh}), with only the settings they vary; or, given {@code --group} and
 * {@code --tracker}, a storage node of a cluster ({@code replicated-upload.sh}, {@code
 * catch-up.sh}).
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp 'bench/target/classes:bench/target/lib/*' \
 *     dev.wimg.bench.ServeMain --port 9333 --data /path/to/data [--fsync always|interval|never] \
 *     [--group G --tracker URL [--copies N]]
 * </pre>
 *
 * <p>Binds 127.0.0.1 (no write key needed), prints one line {@code WIMG listening on PORT} once the
 * port accepts connections, and runs until SIGTERM, when it closes the server (and the store).
 * Exit code 2 on bad arguments.
 */
public final class ServeMain {

  private ServeMain() {}

  public static void main(String[] args) throws Exception {
    int port = ServerConfig.DEFAULT_PORT;
    Path data = null;
    FsyncPolicy fsync = FsyncPolicy.ALWAYS;
    int group = 0;
    URI tracker = null;
    int copies = NodeConfig.DEFAULT_COPIES;
    try {
      for (int i = 0; i < args.length; i++) {
        String value = i + 1 < args.length ? args[i + 1] : null;
        switch (args[i]) {
          case "--port" -> port = Integer.parseInt(required(args[i], value));
          case "--data" -> data = Path.of(required(args[i], value));
          case "--fsync" -> fsync = FsyncPolicy.valueOf(required(args[i], value).toUpperCase(Locale.ROOT));
          case "--group" -> group = Integer.parseInt(required(args[i], value));
          case "--tracker" -> tracker = URI.create(required(args[i], value));
          case "--copies" -> copies = Integer.parseInt(required(args[i], value));
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
        i++;
      }
      if (data == null) {
        throw new IllegalArgumentException("--data DIR is required");
      }
      if ((group == 0) != (tracker == null)) {
        throw new IllegalArgumentException("--group and --tracker go together");
      }
    } catch (IllegalArgumentException e) {
      System.err.println("ServeMain: " + e.getMessage());
      System.err.println("usage: ServeMain --data DIR [--port N] [--fsync always|interval|never]"
          + " [--group G --tracker URL [--copies N]]");
      System.exit(2);
      return;
    }
    StoreConfig store = StoreConfig.defaults(data).withFsyncPolicy(fsync);
    if (tracker != null) {
      StorageNode node = StorageNode.start(ServerConfig.defaults(store).withPort(port).withGroup(group),
          NodeConfig.of(List.of(tracker)).withReserveBytes(0).withCopies(copies));
      Runtime.getRuntime().addShutdownHook(new Thread(node::close, "wimg-bench-shutdown"));
      System.out.println("WIMG listening on " + node.port() + " data=" + data + " fsync=" + fsync
          + " group=" + group + " slot=" + node.slot());
      System.out.flush();
      node.awaitTermination();
      return;
    }
    WimgServer server = WimgServer.start(ServerConfig.defaults(store).withPort(port));
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "wimg-bench-shutdown"));
    System.out.println("WIMG listening on " + server.port() + " data=" + data + " fsync=" + fsync);
    System.out.flush();
    server.awaitTermination();
  }

  private static String required(String option, String value) {
    if (value == null) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return value;
  }
}
