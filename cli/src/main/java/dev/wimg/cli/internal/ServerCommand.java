package dev.wimg.cli.internal;

import dev.wimg.cli.ExitCode;
import dev.wimg.server.FsyncMode;
import dev.wimg.server.ImagingConfig;
import dev.wimg.server.ServerConfig;
import dev.wimg.server.WimgServer;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code wimg server}: the all-in-one server in the foreground.
 *
 * <p>Once the port accepts connections it prints exactly one line to stdout,
 * {@code wimg listening on http://HOST:PORT (data: DIR)}, which scripts and tests wait for (logs go
 * to stderr). It then serves until SIGTERM or SIGINT, when a shutdown hook closes the server:
 * in-flight requests finish briefly and the store is flushed and closed.
 */
@Command(name = "server", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class, sortOptions = false,
    description = {"Run the all-in-one WIMG server (storage node and HTTP API) in the foreground.",
        "Prints 'wimg listening on http://HOST:PORT (data: DIR)' when ready; stop it with Ctrl-C or SIGTERM."})
class ServerCommand implements Callable<Integer> {

  private static final Logger log = LoggerFactory.getLogger(ServerCommand.class);

  /** The data folder when neither flag, WIMG_DATA nor config names one, relative to the working directory. */
  private static final String DEFAULT_DATA = "wimg-data";

  /*
   * Descriptions name the built-in defaults themselves rather than ${DEFAULT-VALUE}, which picocli
   * fills from the environment or the config file when set, and name the variable on a line apart.
   */
  private final Environment environment;

  @Option(names = "--port", paramLabel = "PORT", defaultValue = "" + ServerConfig.DEFAULT_PORT,
      description = {"TCP port; 0 picks a free one.", "Default: " + ServerConfig.DEFAULT_PORT, "Environment: WIMG_PORT."})
  private int port;

  @Option(names = "--bind", paramLabel = "ADDRESS", defaultValue = ServerConfig.DEFAULT_BIND,
      description = {"Address to listen on; any but loopback requires --write-key.",
          "Default: " + ServerConfig.DEFAULT_BIND, "Environment: WIMG_BIND."})
  private String bind;

  @Option(names = "--data", paramLabel = "DIR", defaultValue = DEFAULT_DATA,
      description = {"Folder of the volume files, created if missing.", "Default: " + DEFAULT_DATA,
          "Environment: WIMG_DATA."})
  private Path data;

  @Option(names = "--fsync", paramLabel = "POLICY", defaultValue = "always",
      converter = FsyncModeConverter.class, completionCandidates = FsyncModeConverter.Names.class,
      description = {"always: acknowledge an upload only once it is on disk; interval: fsync every "
          + "second; never: leave it to the OS.", "Default: always", "Environment: WIMG_FSYNC."})
  private FsyncMode fsync;

  @Option(names = "--volume-size", paramLabel = "SIZE", defaultValue = "1g",
      converter = ByteSizeConverter.class,
      description = {"Size at which a volume file is sealed and a new one started, e.g. 256m.",
          "Default: 1g", "Environment: WIMG_VOLUME_SIZE."})
  private long volumeSize;

  @Option(names = "--max-upload", paramLabel = "SIZE", defaultValue = "64g",
      converter = ByteSizeConverter.class,
      description = {"Largest file by any upload, at most 1t; larger ones get 413 (files over "
          + "8m are stored in chunks as they arrive).", "Default: 64g", "Environment: WIMG_MAX_UPLOAD."})
  private long maxUpload;

  @Option(names = "--upload-expiry", paramLabel = "DURATION", defaultValue = "24h",
      converter = DurationConverter.class,
      description = {"A resumable upload (tus, /uploads/) not finished this long after its creation",
          "is removed with its chunks, e.g. 6h, 7d; 1s..365d.", "Default: 24h",
          "Environment: WIMG_UPLOAD_EXPIRY."})
  private java.time.Duration uploadExpiry;

  @Option(names = "--write-key", paramLabel = "KEY",
      description = "Bearer key required for uploads and deletes (env WIMG_WRITE_KEY, which other "
          + "users cannot see in ps, unlike the flag).")
  private String writeKey;

  @Option(names = "--preset", paramLabel = "NAME=PARAMS", split = ";", mapFallbackValue = "",
      description = "A named transform, used as ?p=NAME, e.g. --preset 'thumb=w=150&h=150&mode=fill'; "
          + "repeat it, or separate presets with ';' (env WIMG_PRESET).")
  private Map<String, String> presets = new LinkedHashMap<>();

  @Option(names = "--presets-only", paramLabel = "BOOLEAN", arity = "0..1", fallbackValue = "true",
      defaultValue = "false",
      description = {"Allow only ?p=<preset> transforms (resize-DoS protection).", "Default: false",
          "Environment: WIMG_PRESETS_ONLY."})
  private boolean presetsOnly;

  @Option(names = "--sign-key", paramLabel = "KEY", split = ",",
      description = "HMAC-SHA256 key of signed transform URLs (the sig parameter); several, separated by "
          + "',', allow rotation. With a key, unsigned transforms get 403 (env WIMG_SIGN_KEY, which other "
          + "users cannot see in ps, unlike the flag).")
  private List<String> signKeys = List.of();

  @Option(names = "--transform-queue", paramLabel = "N", defaultValue = "" + ImagingConfig.DEFAULT_QUEUE_LENGTH,
      description = {"Transforms waiting for a worker before requests get 503.",
          "Default: " + ImagingConfig.DEFAULT_QUEUE_LENGTH, "Environment: WIMG_TRANSFORM_QUEUE."})
  private int transformQueue;

  @Option(names = "--transform-cache", paramLabel = "SIZE", defaultValue = "64m",
      converter = ByteSizeConverter.class,
      description = {"Memory for recently computed pictures.", "Default: 64m", "Environment: WIMG_TRANSFORM_CACHE."})
  private long transformCache;

  @Option(names = "--derived-cap", paramLabel = "SIZE", defaultValue = "1g",
      converter = ByteSizeConverter.class,
      description = {"Disk space for derived pictures; past it the least recently used are deleted.",
          "Default: 1g", "Environment: WIMG_DERIVED_CAP."})
  private long derivedCap;

  ServerCommand(Environment environment) {
    this.environment = environment;
  }

  /**
   * The ranges of the numeric options, checked here so that the message names the option as the
   * user wrote it (the config records would name their fields).
   */
  private void checkRanges() {
    if (port < 0 || port > 65535) {
      throw new CliFailure(ExitCode.USAGE, "--port must be 0..65535, got " + port);
    }
    if (volumeSize < (1L << 20) || volumeSize > ServerConfig.MAX_VOLUME_SIZE_LIMIT) {
      throw new CliFailure(ExitCode.USAGE, "--volume-size must be 1m.." + (ServerConfig.MAX_VOLUME_SIZE_LIMIT >> 30)
          + "g, got " + volumeSize + " bytes");
    }
    if (maxUpload < 0 || maxUpload > ServerConfig.MAX_UPLOAD_BYTES) {
      throw new CliFailure(ExitCode.USAGE, "--max-upload must be at most 1t (" + ServerConfig.MAX_UPLOAD_BYTES
          + " bytes), got " + maxUpload);
    }
  }

  @Override
  public Integer call() throws InterruptedException {
    Path dataDir = data.toAbsolutePath().normalize();
    checkRanges();
    ServerConfig config;
    try {
      config = ServerConfig.defaults(dataDir)
          .withFsync(fsync)
          .withVolumeSizeLimit(volumeSize)
          .withBind(bind)
          .withPort(port)
          .withMaxUploadBytes(maxUpload)
          .withUploadExpiry(uploadExpiry)
          .withWriteKey(writeKey == null || writeKey.isEmpty() ? null : writeKey)
          .withImaging(ImagingConfig.defaults()
              .withPresets(presets, presetsOnly)
              .withSigningKeys(signKeys.stream().filter(k -> !k.isEmpty()).toList())
              .withQueueLength(transformQueue)
              .withCacheBytes(transformCache)
              .withDerivedCapBytes(derivedCap));
    } catch (IllegalArgumentException e) {
      throw new CliFailure(ExitCode.USAGE, e.getMessage());
    }
    if (fsync != FsyncMode.ALWAYS) {
      log.warn("fsync={}: acknowledged uploads can be lost if the machine loses power",
          fsync.name().toLowerCase(Locale.ROOT));
    }
    prepareDataFolder(dataDir);
    Running server;
    try {
      server = start(config);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new CliFailure(ExitCode.USAGE, e.getMessage());
    } catch (IOException e) {
      throw CliFailure.of("cannot start on " + url(bind, port) + " with data in " + dataDir, e);
    }
    Thread hook = new Thread(() -> {
      log.info("stopping");
      server.close();
    }, "wimg-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    environment.out().println(server.readyLine(url(bind, server.port()), dataDir));
    environment.out().flush();
    try {
      server.awaitTermination();
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
        server.close();
      } catch (IllegalStateException shuttingDown) {
        // The hook is closing the server already.
      }
    }
    return ExitCode.OK.code();
  }

  /** A started server, as {@link #call} runs it until it stops. */
  interface Running extends AutoCloseable {
    int port();

    void awaitTermination() throws InterruptedException;

    @Override
    void close();

    /** The one line printed on stdout once it listens. */
    String readyLine(String url, Path dataDir);
  }

  /**
   * Starts what this command runs with {@code config}: the all-in-one server here.
   *
   * @throws IllegalArgumentException or IllegalStateException for a bad setting (a usage error)
   */
  Running start(ServerConfig config) throws IOException {
    WimgServer server = WimgServer.start(config);
    return new Running() {
      @Override
      public int port() {
        return server.port();
      }

      @Override
      public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
      }

      @Override
      public void close() {
        server.close();
      }

      @Override
      public String readyLine(String url, Path dataDir) {
        return "wimg listening on " + url + " (data: " + dataDir + ")";
      }
    };
  }

  /**
   * Creates {@code dir} if missing and checks it can hold volumes, so that a bad {@code --data}
   * is reported as what is wrong with it rather than as the bare path a failed open names. A path
   * that is not a folder is a {@link ExitCode#USAGE} error; a folder that cannot be created or
   * written is a local {@link ExitCode#FAILURE}.
   */
  private static void prepareDataFolder(Path dir) {
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new CliFailure(ExitCode.USAGE, "data folder " + dir + " is not a folder");
    }
    for (Path above = dir.getParent(); above != null; above = above.getParent()) {
      if (Files.exists(above)) {
        if (!Files.isDirectory(above)) {
          throw new CliFailure(ExitCode.USAGE, "cannot create data folder " + dir + ": " + above
              + " is not a folder");
        }
        break;
      }
    }
    try {
      Files.createDirectories(dir);
    } catch (AccessDeniedException e) {
      throw new CliFailure(ExitCode.FAILURE, "cannot create data folder " + dir
          + ": permission denied on " + e.getFile(), e);
    } catch (IOException e) {
      throw new CliFailure(ExitCode.FAILURE, "cannot create data folder " + dir + ": "
          + (e instanceof FileSystemException f && f.getReason() != null ? f.getReason() : e.toString()), e);
    }
    if (!Files.isWritable(dir)) {
      throw new CliFailure(ExitCode.FAILURE, "data folder " + dir + " is not writable");
    }
  }

  private static String url(String host, int port) {
    return "http://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
