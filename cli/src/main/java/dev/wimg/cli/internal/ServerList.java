package dev.wimg.cli.internal;

import dev.wimg.client.WimgClient;
import java.net.URI;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The value of {@code --server}: the base URLs of servers or trackers, tried in this order (see
 * {@link WimgClient}). Made by {@link ServerUrlConverter}.
 *
 * @param urls checked base URLs without trailing slashes, at least one, none twice
 */
public record ServerList(List<URI> urls) {

  public ServerList {
    urls = WimgClient.baseUrls(urls);
  }

  /** The URLs as given on the command line: comma-separated. */
  @Override
  public String toString() {
    return urls.stream().map(URI::toString).collect(Collectors.joining(","));
  }
}
