package dev.wimg.cli.internal;

import dev.wimg.client.WimgClient;
import java.net.URI;
import java.net.URISyntaxException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A server base URL such as {@code http://127.0.0.1:9333}; {@code host:port} without a scheme
 * means {@code http://host:port}.
 */
public final class ServerUrlConverter implements ITypeConverter<URI> {

  @Override
  public URI convert(String value) {
    String text = value.strip();
    if (!text.contains("://")) {
      text = "http://" + text;
    }
    try {
      return WimgClient.baseUrl(new URI(text));
    } catch (URISyntaxException | IllegalArgumentException e) {
      throw new TypeConversionException("'" + value + "' is not a server URL like http://127.0.0.1:9333: "
          + e.getMessage());
    }
  }
}
