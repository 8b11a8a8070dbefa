package dev.wimg.cli.internal;

import dev.wimg.client.WimgClient;
import java.net.URI;
import picocli.CommandLine.Option;

/** Options of the commands that talk to a running server. */
public final class RemoteOptions {

  @Option(names = "--server", paramLabel = "URL", defaultValue = "http://127.0.0.1:9333",
      converter = ServerUrlConverter.class,
      description = "WIMG server to talk to (env WIMG_SERVER; default: ${DEFAULT-VALUE}).")
  private URI server;

  @Option(names = {"--key", "--write-key"}, paramLabel = "KEY",
      description = "Write key, sent as a bearer token with uploads and deletes (env "
          + "WIMG_WRITE_KEY, which other users cannot see in ps, unlike the flag).")
  private String key;

  /** The server's base URL. */
  public URI server() {
    return server;
  }

  /** A new client of {@link #server()}; close it. */
  public WimgClient connect() {
    return WimgClient.builder(server).writeKey(key).build();
  }
}
