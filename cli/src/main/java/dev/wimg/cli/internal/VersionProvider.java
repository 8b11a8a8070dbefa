package dev.wimg.cli.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** {@code wimg --version}: the build's version (filtered into a resource) and the Java runtime. */
public final class VersionProvider implements IVersionProvider {

  private static final String RESOURCE = "/dev/wimg/cli/version.properties";

  @Override
  public String[] getVersion() throws IOException {
    return new String[] {
        "wimg " + version(),
        "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + "), "
            + System.getProperty("os.name") + " " + System.getProperty("os.arch")
    };
  }

  /** The version this jar was built as. */
  public static String version() throws IOException {
    Properties p = new Properties();
    try (InputStream in = VersionProvider.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IOException("resource " + RESOURCE + " is missing from the build");
      }
      p.load(in);
    }
    return p.getProperty("version");
  }
}
