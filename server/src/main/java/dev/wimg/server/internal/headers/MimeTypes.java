package dev.wimg.server.internal.headers;

import java.util.Locale;
import java.util.Map;

/**
 * Media types guessed from a file name's extension, for files stored without one. The table holds
 * what a picture and file server meets; anything else is {@value #OCTET_STREAM}.
 */
public final class MimeTypes {

  /** The type of bytes of unknown kind (RFC 2046). */
  public static final String OCTET_STREAM = "application/octet-stream";

  private static final Map<String, String> BY_EXTENSION = Map.ofEntries(
      Map.entry("jpg", "image/jpeg"),
      Map.entry("jpeg", "image/jpeg"),
      Map.entry("jpe", "image/jpeg"),
      Map.entry("png", "image/png"),
      Map.entry("gif", "image/gif"),
      Map.entry("webp", "image/webp"),
      Map.entry("avif", "image/avif"),
      Map.entry("heic", "image/heic"),
      Map.entry("heif", "image/heif"),
      Map.entry("jxl", "image/jxl"),
      Map.entry("bmp", "image/bmp"),
      Map.entry("tif", "image/tiff"),
      Map.entry("tiff", "image/tiff"),
      Map.entry("ico", "image/vnd.microsoft.icon"),
      Map.entry("svg", "image/svg+xml"),
      Map.entry("mp4", "video/mp4"),
      Map.entry("m4v", "video/mp4"),
      Map.entry("webm", "video/webm"),
      Map.entry("mov", "video/quicktime"),
      Map.entry("mp3", "audio/mpeg"),
      Map.entry("m4a", "audio/mp4"),
      Map.entry("ogg", "audio/ogg"),
      Map.entry("opus", "audio/ogg"),
      Map.entry("wav", "audio/wav"),
      Map.entry("flac", "audio/flac"),
      Map.entry("pdf", "application/pdf"),
      Map.entry("zip", "application/zip"),
      Map.entry("gz", "application/gzip"),
      Map.entry("tar", "application/x-tar"),
      Map.entry("zst", "application/zstd"),
      Map.entry("wasm", "application/wasm"),
      Map.entry("json", "application/json"),
      Map.entry("xml", "application/xml"),
      Map.entry("txt", "text/plain; charset=utf-8"),
      Map.entry("csv", "text/csv; charset=utf-8"),
      Map.entry("md", "text/markdown; charset=utf-8"),
      Map.entry("html", "text/html; charset=utf-8"),
      Map.entry("htm", "text/html; charset=utf-8"),
      Map.entry("css", "text/css; charset=utf-8"),
      Map.entry("js", "text/javascript; charset=utf-8"),
      Map.entry("mjs", "text/javascript; charset=utf-8"),
      Map.entry("woff", "font/woff"),
      Map.entry("woff2", "font/woff2"),
      Map.entry("ttf", "font/ttf"),
      Map.entry("otf", "font/otf"));

  private MimeTypes() {}

  /** The type for {@code name}'s extension, or null if the name is null or the extension unknown. */
  public static String guess(String name) {
    if (name == null) {
      return null;
    }
    int dot = name.lastIndexOf('.');
    if (dot < 0 || dot == name.length() - 1) {
      return null;
    }
    return BY_EXTENSION.get(name.substring(dot + 1).toLowerCase(Locale.ROOT));
  }

  /**
   * The Content-Type a file is served with: the stored type, else a guess from the first name
   * that has a known extension, else {@value #OCTET_STREAM}.
   */
  public static String effective(String storedMime, String... names) {
    if (storedMime != null) {
      return storedMime;
    }
    for (String name : names) {
      String guessed = guess(name);
      if (guessed != null) {
        return guessed;
      }
    }
    return OCTET_STREAM;
  }

  /**
   * Whether a browser may show a file of this type inline, as this origin: pictures, sound and
   * video, and plain text, the types a browser renders without running anything in them. Every
   * other type (HTML, SVG, XML, PDF, JavaScript, {@code multipart/x-mixed-replace}, unknown
   * types) gets a sandboxing Content-Security-Policy and {@code Content-Disposition: attachment}:
   * an allow-list, because a deny-list of active types misses the next one a browser learns.
   */
  public static boolean isSafeInline(String mime) {
    String type = mime.toLowerCase(Locale.ROOT);
    int semicolon = type.indexOf(';');
    type = (semicolon < 0 ? type : type.substring(0, semicolon)).strip();
    if (type.contains("xml") || type.contains("svg")) {
      return false; // image/svg+xml and any XML flavour can carry script
    }
    return type.startsWith("image/") || type.startsWith("audio/") || type.startsWith("video/")
        || type.equals("text/plain");
  }
}
