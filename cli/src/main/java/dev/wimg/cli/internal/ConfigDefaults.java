package dev.wimg.cli.internal;

import dev.wimg.cli.ExitCode;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.PropertiesDefaultProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Default values of the configurable options from environment variables and a config file.
 * Precedence, highest first: command-line flag, environment variable, config file, the option's
 * built-in default (picocli falls back to it when this provider answers null).
 *
 * <p>Only the options in {@link #KEYS} are configurable. An option's key is its longest name
 * without dashes ({@code --volume-size} → {@code volume-size}); its environment variable is
 * {@code WIMG_} plus the key upper-cased with {@code _} for {@code -} ({@code WIMG_VOLUME_SIZE}).
 * The config file is plain Java properties with the keys as names:
 *
 * <pre>
 * port=9333
 * data=/srv/wimg
 * fsync=always
 * </pre>
 *
 * <p>The file is {@code --config FILE} if given anywhere on the command line, else
 * {@code $WIMG_CONFIG}, else {@value #DEFAULT_FILE_NAME} in the working folder if it exists. An
 * explicit file that is missing, or a key that is not configurable (a typo), is a usage error.
 *
 * <p>Implementation notes: the file's values are looked up by picocli's own
 * {@link PropertiesDefaultProvider}; this class adds what it lacks: the environment layer above
 * the file, the allow-list of keys, and where a value came from. The one thing picocli cannot do
 * is find {@code --config FILE}: defaults are applied while the command line is parsed, so the file
 * must be known before, and {@link #configFileArgument} reads it from the raw arguments.
 */
public final class ConfigDefaults implements IDefaultValueProvider {

  /** The configurable option keys, in the order the README's table lists them. */
  public static final List<String> KEYS = List.of(
      "port", "bind", "data", "fsync", "volume-size", "max-upload", "upload-expiry", "write-key", "server", "preset",
      "presets-only", "sign-key", "transform-queue", "transform-cache", "derived-cap", "group",
      "tracker", "zone", "public-url", "cluster-key", "down-after", "group-placement",
      "member-placement", "reserve", "copies", "raft-data", "catch-up-every");
  /** Config file read from the working folder when none is named. */
  public static final String DEFAULT_FILE_NAME = "wimg.properties";
  /** Environment variable naming a config file. */
  public static final String CONFIG_VARIABLE = "WIMG_CONFIG";

  private final Map<String, String> variables;
  private final Properties file;
  private final PropertiesDefaultProvider fileDefaults;
  private final Path filePath;

  private ConfigDefaults(Map<String, String> variables, Properties file, Path filePath) {
    this.variables = variables;
    this.file = file;
    this.fileDefaults = new PropertiesDefaultProvider(file);
    this.filePath = filePath;
  }

  /**
   * Finds and reads the config file for a command line.
   *
   * @throws CliFailure with {@link ExitCode#USAGE} if a named file is missing or unreadable, or
   *     the file has a key that is not configurable
   */
  public static ConfigDefaults load(String[] args, Environment environment) {
    Path path = configFileArgument(args);
    boolean named = path != null;
    if (path == null && environment.variables().get(CONFIG_VARIABLE) != null) {
      path = Path.of(environment.variables().get(CONFIG_VARIABLE));
      named = true;
    }
    if (path == null) {
      Path candidate = environment.workingDir().resolve(DEFAULT_FILE_NAME);
      path = Files.isRegularFile(candidate) ? candidate : null;
    }
    Properties properties = new Properties();
    if (path == null) {
      return new ConfigDefaults(environment.variables(), properties, null);
    }
    if (named && !Files.isRegularFile(path)) {
      throw new CliFailure(ExitCode.USAGE, "config file not found: " + path);
    }
    try (Reader in = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
      properties.load(in);
    } catch (IOException | IllegalArgumentException e) {
      throw new CliFailure(ExitCode.USAGE, "cannot read config file " + path + ": " + e.getMessage());
    }
    TreeSet<String> unknown = new TreeSet<>(properties.stringPropertyNames());
    unknown.removeAll(KEYS);
    if (!unknown.isEmpty()) {
      throw new CliFailure(ExitCode.USAGE, "config file " + path + " has unknown key(s) " + unknown
          + "; known keys: " + String.join(", ", KEYS));
    }
    return new ConfigDefaults(environment.variables(), properties, path);
  }

  @Override
  public String defaultValue(ArgSpec arg) throws Exception {
    String key = keyOf(arg);
    if (key == null) {
      return null;
    }
    String fromEnv = variables.get(variableName(key));
    if (fromEnv != null && !fromEnv.isBlank()) {
      return fromEnv.strip();
    }
    String fromFile = fileDefaults.defaultValue(arg);
    return fromFile == null ? null : fromFile.strip();
  }

  /**
   * Where the default of {@code arg} came from, for error messages: {@code environment variable
   * WIMG_PORT} or {@code config file /etc/wimg.properties (key port)}; null if it is built in.
   */
  public String originOf(ArgSpec arg) {
    String key = keyOf(arg);
    if (key == null) {
      return null;
    }
    String fromEnv = variables.get(variableName(key));
    if (fromEnv != null && !fromEnv.isBlank()) {
      return "environment variable " + variableName(key);
    }
    return file.getProperty(key) == null ? null : "config file " + filePath + " (key " + key + ")";
  }

  /** The config file in use, or null. */
  public Path file() {
    return filePath;
  }

  /** {@code WIMG_} + the key upper-cased, {@code -} as {@code _}. */
  public static String variableName(String key) {
    return "WIMG_" + key.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  private static String keyOf(ArgSpec arg) {
    if (!(arg instanceof OptionSpec option)) {
      return null;
    }
    String key = option.longestName().replaceFirst("^-+", "");
    return KEYS.contains(key) ? key : null;
  }

  /** The value of {@code --config FILE} or {@code --config=FILE} before a {@code --}, or null. */
  private static Path configFileArgument(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--")) {
        return null;
      }
      if (a.equals("--config")) {
        if (i + 1 >= args.length) {
          throw new CliFailure(ExitCode.USAGE, "--config needs a FILE");
        }
        return Path.of(args[i + 1]);
      }
      if (a.startsWith("--config=")) {
        return Path.of(a.substring("--config=".length()));
      }
    }
    return null;
  }
}
