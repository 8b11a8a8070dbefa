package dev.wimg.imaging.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Reads the EXIF orientation (tag 0x0112) of a JPEG without decoding it, for the Java engine
 * (libvips reads it itself).
 *
 * <p>Where it lives:
 * <pre>
 * JPEG       FF D8, then segments FF xx [u16 BE length incl. itself] [payload]
 *            until SOS (FF DA) or EOI (FF D9); standalone markers FF 01, FF D0..D7 have no length
 * APP1       FF E1 len "Exif\0\0" then a TIFF structure; offsets are from the TIFF start
 * TIFF       0  2  byte order "II" (little) or "MM" (big)
 *            2  2  42
 *            4  4  offset of IFD0
 * IFD        0  2  entry count n
 *            2  12·n entries: tag u16, type u16, count u32, value-or-offset u32
 * entry      tag 0x0112, type 3 (SHORT), count 1: the value sits in the first 2 bytes of the
 *            value field, in the file's byte order
 * </pre>
 * Anything malformed, out of bounds or out of range gives orientation 1 (as shown): a bad EXIF
 * block must not make a good picture unreadable.
 */
public final class ExifOrientation {

  /** Orientation when there is none, or it cannot be read: as stored. */
  public static final int NONE = 1;
  private static final int APP1 = 0xE1;
  private static final int SOS = 0xDA;
  private static final int EOI = 0xD9;
  /** "Exif\0\0" header before the TIFF structure in APP1. */
  private static final int EXIF_HEADER_LENGTH = 6;
  private static final int TIFF_MAGIC = 42;
  private static final int IFD_ENTRY_LENGTH = 12;
  private static final int TAG_ORIENTATION = 0x0112;
  private static final int TYPE_SHORT = 3;
  /** Segments examined before giving up: APP1 comes first in practice. */
  private static final int MAX_SEGMENTS = 64;

  private ExifOrientation() {
  }

  /**
   * @param jpeg a JPEG from its position to its limit; not modified
   * @return 1..8
   */
  public static int read(ByteBuffer jpeg) {
    ByteBuffer b = jpeg.slice().order(ByteOrder.BIG_ENDIAN);
    int n = b.limit();
    if (n < 4 || (b.get(0) & 0xFF) != 0xFF || (b.get(1) & 0xFF) != 0xD8) {
      return NONE;
    }
    int at = 2;
    for (int segments = 0; segments < MAX_SEGMENTS && at + 4 <= n; segments++) {
      if ((b.get(at) & 0xFF) != 0xFF) {
        return NONE;
      }
      int marker = b.get(at + 1) & 0xFF;
      if (marker == 0xFF) { // fill byte
        at++;
        continue;
      }
      if (marker == SOS || marker == EOI) {
        return NONE;
      }
      if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
        at += 2;
        continue;
      }
      int length = b.getShort(at + 2) & 0xFFFF;
      if (length < 2 || at + 2 + length > n) {
        return NONE;
      }
      if (marker == APP1 && length >= 2 + EXIF_HEADER_LENGTH + 8 && isExif(b, at + 4)) {
        return fromTiff(b.slice(at + 4 + EXIF_HEADER_LENGTH, length - 2 - EXIF_HEADER_LENGTH));
      }
      at += 2 + length;
    }
    return NONE;
  }

  private static boolean isExif(ByteBuffer b, int at) {
    return b.get(at) == 'E' && b.get(at + 1) == 'x' && b.get(at + 2) == 'i' && b.get(at + 3) == 'f'
        && b.get(at + 4) == 0 && b.get(at + 5) == 0;
  }

  private static int fromTiff(ByteBuffer tiff) {
    int n = tiff.limit();
    if (tiff.get(0) == 'I' && tiff.get(1) == 'I') {
      tiff.order(ByteOrder.LITTLE_ENDIAN);
    } else if (tiff.get(0) == 'M' && tiff.get(1) == 'M') {
      tiff.order(ByteOrder.BIG_ENDIAN);
    } else {
      return NONE;
    }
    if ((tiff.getShort(2) & 0xFFFF) != TIFF_MAGIC) {
      return NONE;
    }
    long ifd = Integer.toUnsignedLong(tiff.getInt(4));
    if (ifd < 8 || ifd + 2 > n) {
      return NONE;
    }
    int entries = tiff.getShort((int) ifd) & 0xFFFF;
    for (int i = 0; i < entries; i++) {
      int entry = (int) ifd + 2 + i * IFD_ENTRY_LENGTH;
      if (entry + IFD_ENTRY_LENGTH > n) {
        return NONE;
      }
      if ((tiff.getShort(entry) & 0xFFFF) == TAG_ORIENTATION) {
        int type = tiff.getShort(entry + 2) & 0xFFFF;
        int value = tiff.getShort(entry + 8) & 0xFFFF;
        return type == TYPE_SHORT && value >= 1 && value <= 8 ? value : NONE;
      }
    }
    return NONE;
  }
}
