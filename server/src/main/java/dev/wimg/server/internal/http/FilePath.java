package dev.wimg.server.internal.http;

import dev.wimg.protocol.Fid;

/**
 * A file URL path: {@code /<fid>} or {@code /<fid>/<name>}. The name is any one path segment; it
 * only chooses the download name and, for files stored without a media type, the guessed type.
 *
 * @param fid  the file id
 * @param name the percent-decoded name segment, or null
 */
public record FilePath(Fid fid, String name) {

  /**
   * Parses a raw request path.
   *
   * @throws IllegalArgumentException with a message fit for the client, if the path cannot name
   *     a file (the fid's own parse error when the first segment is not a fid)
   */
  public static FilePath parse(String path) {
    if (path.length() < 2 || path.charAt(0) != '/') {
      throw new IllegalArgumentException("path must be /<fid> or /<fid>/<name>");
    }
    int slash = path.indexOf('/', 1);
    String fidText = slash < 0 ? path.substring(1) : path.substring(1, slash);
    Fid fid = Fid.parse(fidText);
    if (slash < 0 || slash == path.length() - 1) {
      return new FilePath(fid, null);
    }
    String segment = path.substring(slash + 1);
    if (segment.indexOf('/') >= 0) {
      throw new IllegalArgumentException("path must be /<fid> or /<fid>/<name>, with one name segment");
    }
    return new FilePath(fid, RequestTarget.percentDecode(segment, false));
  }
}
