package dev.wimg.cli.internal;

import dev.wimg.client.WimgClient;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A comma-separated list of server or tracker base URLs such as
 * {@code http://127.0.0.1:9400,http://127.0.0.1:9410}; one URL is a list of one. In each,
 * {@code host:port} without a scheme means {@code http://host:port}. Spaces around the commas are
 * ignored; an empty entry, a bad URL or a URL listed twice is refused, naming it.
 */
public final class ServerUrlConverter implements ITypeConverter<ServerList> {

  @Override
  public ServerList convert(String value) {
    String[] entries = value.split(",", -1);
    List<URI> urls = new ArrayList<>(entries.length);
    for (String entry : entries) {
      String text = entry.strip();
      if (text.isEmpty()) {
        throw new TypeConversionException("'" + value + "' has an empty entry: give server URLs like "
            + "http://127.0.0.1:9333, separated by single commas");
      }
      if (!text.contains("://")) {
        text = "http://" + text;
      }
      try {
        urls.add(WimgClient.baseUrl(new URI(text)));
      } catch (URISyntaxException | IllegalArgumentException e) {
        throw new TypeConversionException("'" + (entries.length == 1 ? value : text) + "' is not a server URL like "
            + "http://127.0.0.1:9333: " + e.getMessage());
      }
    }
    try {
      return new ServerList(urls);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException("'" + value + "': " + e.getMessage());
    }
  }
}
