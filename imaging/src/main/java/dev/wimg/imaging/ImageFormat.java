package dev.wimg.imaging;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

/**
 * Picture formats WIMG recognises, with the magic bytes that identify them.
 *
 * <p>{@link #sniff} looks only at these bytes (the start of the file), never at a file name or a
 * declared type:
 * <pre>
 * format  offset  bytes                              meaning
 * JPEG    0       FF D8 FF                           SOI marker, then any marker
 * PNG     0       89 50 4E 47 0D 0A 1A 0A            PNG signature
 * GIF     0       47 49 46 38 (37|39) 61             "GIF87a" or "GIF89a"
 * WEBP    0       52 49 46 46                        "RIFF"
 *         8       57 45 42 50                        "WEBP"
 * BMP     0       42 4D                              "BM"
 *         14      u32 LE in {12,40,52,56,64,108,124} DIB header size
 * TIFF    0       49 49 2A 00 | 4D 4D 00 2A          "II*\0" little-, "MM\0*" big-endian
 * AVIF    4       66 74 79 70                        ISO BMFF "ftyp" box (size u32 BE at 0)
 *         8       "avif" | "avis", or "mif1"/"msf1" with "avif" among the compatible brands
 * HEIF    4       66 74 79 70                        "ftyp" box
 *         8       "heic" "heix" "heim" "heis" "hevc" "hevx" "hevm" "hevs" "mif1" "msf1"
 * </pre>
 */
public enum ImageFormat {
  JPEG("image/jpeg"),
  PNG("image/png"),
  GIF("image/gif"),
  WEBP("image/webp"),
  AVIF("image/avif"),
  HEIF("image/heif"),
  TIFF("image/tiff"),
  BMP("image/bmp");

  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  /** Offset of "WEBP" in a RIFF file, after "RIFF" and the u32 chunk size. */
  private static final int WEBP_FOURCC_OFFSET = 8;
  /** Offset of the BMP DIB header size, after the 14-byte file header. */
  private static final int BMP_DIB_SIZE_OFFSET = 14;
  /** Offset of the box type in an ISO BMFF file, after the u32 box size. */
  private static final int FTYP_TYPE_OFFSET = 4;
  /** Offset of the major brand, after the ftyp box size and type. */
  private static final int FTYP_MAJOR_BRAND_OFFSET = 8;
  /** Offset of the first compatible brand, after the major brand and the u32 minor version. */
  private static final int FTYP_COMPATIBLE_OFFSET = 16;
  /** Longest ftyp box scanned for compatible brands, in bytes. */
  private static final int FTYP_MAX_SCANNED = 256;
  /** Bytes {@link #sniff} needs to decide for every format. */
  public static final int SNIFF_LENGTH = 18;

  private final String mime;

  ImageFormat(String mime) {
    this.mime = mime;
  }

  /** The media type, for {@code Content-Type}. */
  public String mime() {
    return mime;
  }

  /** The lower-case name, as used in URLs ({@code format=}) and status pages. */
  public String token() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Identifies a picture from its first bytes.
   *
   * @param source the file, from its position to its limit; not modified
   * @return the format, or empty when the bytes are not a picture WIMG knows
   */
  public static Optional<ImageFormat> sniff(ByteBuffer source) {
    ByteBuffer b = source.slice();
    int n = b.remaining();
    if (n >= 3 && u8(b, 0) == 0xFF && u8(b, 1) == 0xD8 && u8(b, 2) == 0xFF) {
      return Optional.of(JPEG);
    }
    if (startsWith(b, 0, PNG_SIGNATURE)) {
      return Optional.of(PNG);
    }
    if (ascii(b, 0, 6).equals("GIF87a") || ascii(b, 0, 6).equals("GIF89a")) {
      return Optional.of(GIF);
    }
    if (ascii(b, 0, 4).equals("RIFF") && ascii(b, WEBP_FOURCC_OFFSET, 4).equals("WEBP")) {
      return Optional.of(WEBP);
    }
    if (ascii(b, 0, 4).equals("II*\0") || ascii(b, 0, 4).equals("MM\0*")) {
      return Optional.of(TIFF);
    }
    if (ascii(b, 0, 2).equals("BM") && n >= BMP_DIB_SIZE_OFFSET + 4) {
      int dib = b.order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(BMP_DIB_SIZE_OFFSET);
      if (dib == 12 || dib == 40 || dib == 52 || dib == 56 || dib == 64 || dib == 108 || dib == 124) {
        return Optional.of(BMP);
      }
    }
    if (ascii(b, FTYP_TYPE_OFFSET, 4).equals("ftyp")) {
      return isoBrand(b);
    }
    return Optional.empty();
  }

  private static Optional<ImageFormat> isoBrand(ByteBuffer b) {
    String major = ascii(b, FTYP_MAJOR_BRAND_OFFSET, 4);
    switch (major) {
      case "avif", "avis" -> {
        return Optional.of(AVIF);
      }
      case "heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs" -> {
        return Optional.of(HEIF);
      }
      case "mif1", "msf1" -> {
        long boxSize = b.remaining() >= 4 ? Integer.toUnsignedLong(b.order(java.nio.ByteOrder.BIG_ENDIAN).getInt(0)) : 0;
        int end = (int) Math.min(Math.min(boxSize, b.remaining()), FTYP_MAX_SCANNED);
        for (int at = FTYP_COMPATIBLE_OFFSET; at + 4 <= end; at += 4) {
          if (ascii(b, at, 4).equals("avif")) {
            return Optional.of(AVIF);
          }
        }
        return Optional.of(HEIF);
      }
      default -> {
        return Optional.empty();
      }
    }
  }

  private static int u8(ByteBuffer b, int at) {
    return b.get(at) & 0xFF;
  }

  private static boolean startsWith(ByteBuffer b, int at, byte[] magic) {
    if (b.remaining() < at + magic.length) {
      return false;
    }
    for (int i = 0; i < magic.length; i++) {
      if (b.get(at + i) != magic[i]) {
        return false;
      }
    }
    return true;
  }

  /** The bytes at {@code at..at+n} as ISO-8859-1 text, or "" when the buffer is shorter. */
  private static String ascii(ByteBuffer b, int at, int n) {
    if (b.remaining() < at + n) {
      return "";
    }
    byte[] bytes = new byte[n];
    b.get(at, bytes);
    return new String(bytes, StandardCharsets.ISO_8859_1);
  }
}
