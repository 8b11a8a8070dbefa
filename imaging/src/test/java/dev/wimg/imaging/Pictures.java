package dev.wimg.imaging;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import javax.imageio.ImageIO;

/** Test pictures: the committed fixtures, and hostile files made on the spot. */
final class Pictures {

  /** A zlib stream of one zero byte: the data of a PNG whose pixel rows are missing. */
  private static final byte[] FIRST_ROW_ONLY = {0x78, (byte) 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01};

  private Pictures() {
  }

  /** A fixture from src/test/resources/pictures, as a heap buffer. */
  static ByteBuffer heap(String name) {
    return ByteBuffer.wrap(bytes(name));
  }

  /** A fixture as a read-only direct buffer, as the server hands over a mapped volume. */
  static ByteBuffer direct(String name) {
    byte[] bytes = bytes(name);
    ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length);
    direct.put(bytes).flip();
    return direct.asReadOnlyBuffer();
  }

  static byte[] bytes(String name) {
    try (InputStream in = Pictures.class.getResourceAsStream("/pictures/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no test picture " + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Decodes a JPEG or PNG output with the JDK's ImageIO. */
  static BufferedImage decode(TransformResult result) {
    try {
      BufferedImage image = ImageIO.read(new ByteArrayInputStream(result.bytes()));
      if (image == null) {
        throw new AssertionError("ImageIO cannot decode the " + result.format() + " output");
      }
      return image;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A valid PNG that claims {@code width×height} 1-bit grey pixels, all black, in a few hundred
   * KB: the classic decompression bomb (as 8-bit RGBA in memory it would need 4·w·h bytes).
   * Rows are deflated as they are made, so building it allocates one row.
   */
  static ByteBuffer pngBomb(int width, int height) {
    ByteArrayOutputStream idat = new ByteArrayOutputStream();
    try (DeflaterOutputStream z = new DeflaterOutputStream(idat,
        new Deflater(Deflater.BEST_COMPRESSION), 1 << 16)) {
      // All rows are zero (filter byte and pixels): deflate them many at a time.
      long rowBytes = 1 + (width + 7) / 8;
      byte[] rows = new byte[(int) Math.min(rowBytes * height, Math.max(rowBytes, 1 << 20))];
      long rowsPerWrite = rows.length / rowBytes;
      for (long y = 0; y < height; y += rowsPerWrite) {
        z.write(rows, 0, (int) (Math.min(rowsPerWrite, height - y) * rowBytes));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    png.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
    ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height)
        .put((byte) 1).put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0);
    chunk(png, "IHDR", ihdr.array());
    chunk(png, "IDAT", idat.toByteArray());
    chunk(png, "IEND", new byte[0]);
    return ByteBuffer.wrap(png.toByteArray());
  }

  /** Adam7's passes: first column, first row, column step, row step. */
  private static final int[][] ADAM7 = {
      {0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};

  /**
   * A valid black 8-bit RGB PNG, interlaced (Adam7) or not: the same pixels, which libvips reads
   * line by line only when they are not interlaced.
   */
  static ByteBuffer blackRgbPng(int width, int height, boolean interlaced) {
    ByteArrayOutputStream idat = new ByteArrayOutputStream();
    try (DeflaterOutputStream z = new DeflaterOutputStream(idat,
        new Deflater(Deflater.BEST_COMPRESSION), 1 << 16)) {
      // Every row is its filter byte (0, none) and zero pixels.
      byte[] zeros = new byte[1 << 16];
      long rawBytes = 0;
      for (int[] pass : interlaced ? ADAM7 : new int[][] {{0, 0, 1, 1}}) {
        long passWidth = width > pass[0] ? Math.ceilDiv(width - pass[0], pass[2]) : 0;
        long passHeight = height > pass[1] ? Math.ceilDiv(height - pass[1], pass[3]) : 0;
        if (passWidth > 0) {
          rawBytes += passHeight * (1 + 3 * passWidth);
        }
      }
      for (long left = rawBytes; left > 0; left -= zeros.length) {
        z.write(zeros, 0, (int) Math.min(zeros.length, left));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    png.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
    chunk(png, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height)
        .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0)
        .put((byte) (interlaced ? 1 : 0)).array());
    chunk(png, "IDAT", idat.toByteArray());
    chunk(png, "IEND", new byte[0]);
    return ByteBuffer.wrap(png.toByteArray());
  }

  /** A PNG whose header claims {@code width×height} 1-bit grey pixels and which holds none. */
  static ByteBuffer pngHeaderOnly(int width, int height) {
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    png.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
    ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height)
        .put((byte) 1).put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0);
    chunk(png, "IHDR", ihdr.array());
    chunk(png, "IDAT", FIRST_ROW_ONLY); // decoders read the header up to the first IDAT
    chunk(png, "IEND", new byte[0]);
    return ByteBuffer.wrap(png.toByteArray());
  }

  /**
   * A PNG header claiming {@code width×height} pixels of the given bit depth and colour type (6:
   * RGBA, 2: RGB, 0: grey), with no pixel data: enough for checks made from the header.
   */
  static ByteBuffer pngHeaderOnly(int width, int height, int depth, int colourType) {
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    png.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
    ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height)
        .put((byte) depth).put((byte) colourType).put((byte) 0).put((byte) 0).put((byte) 0);
    chunk(png, "IHDR", ihdr.array());
    chunk(png, "IDAT", FIRST_ROW_ONLY); // decoders read the header up to the first IDAT
    chunk(png, "IEND", new byte[0]);
    return ByteBuffer.wrap(png.toByteArray());
  }

  /**
   * A little-endian baseline TIFF header claiming {@code width×height} pixels of {@code bands}
   * 8-bit bands (grey plus extra samples), one uncompressed strip that holds only its first 16
   * bytes: enough for checks made from the header.
   *
   * <pre>
   * offset  size  what
   * 0       8     "II", 42, offset of the IFD (8)
   * 8       2     entry count (11)
   * 10      132   11 entries of 12 bytes: tag, type, count, value or offset
   * 142     4     next IFD: 0
   * 146     2·n   BitsPerSample: n × 8
   * ...     2·n   ExtraSamples: (n-1) × 0 (unspecified)
   * ...     16    the strip
   * </pre>
   */
  static ByteBuffer tiffHeaderOnly(int width, int height, int bands) {
    int entries = 11;
    int ifdEnd = 8 + 2 + entries * 12 + 4;
    int bitsAt = ifdEnd;
    int extraAt = bitsAt + 2 * bands;
    int stripAt = extraAt + 2 * bands;
    ByteBuffer b = ByteBuffer.allocate(stripAt + 16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 'I').put((byte) 'I').putShort((short) 42).putInt(8);
    b.putShort((short) entries);
    tiffEntry(b, 256, 4, 1, width);                 // ImageWidth, LONG
    tiffEntry(b, 257, 4, 1, height);                // ImageLength
    tiffEntry(b, 258, 3, bands, bitsAt);            // BitsPerSample, SHORT[bands]
    tiffEntry(b, 259, 3, 1, 1);                     // Compression: none
    tiffEntry(b, 262, 3, 1, 1);                     // Photometric: min-is-black
    tiffEntry(b, 273, 4, 1, stripAt);               // StripOffsets
    tiffEntry(b, 277, 3, 1, bands);                 // SamplesPerPixel
    tiffEntry(b, 278, 4, 1, height);                // RowsPerStrip
    tiffEntry(b, 279, 4, 1, width * bands * height); // StripByteCounts (a lie: 16 are there)
    tiffEntry(b, 284, 3, 1, 1);                     // PlanarConfiguration: chunky
    tiffEntry(b, 338, 3, bands - 1, extraAt);       // ExtraSamples
    b.putInt(0);
    for (int i = 0; i < bands; i++) {
      b.putShort((short) 8);
    }
    for (int i = 0; i < bands; i++) {
      b.putShort((short) 0);
    }
    return b.position(0).limit(b.capacity()).slice().order(java.nio.ByteOrder.BIG_ENDIAN);
  }

  private static void tiffEntry(ByteBuffer b, int tag, int type, int count, int value) {
    b.putShort((short) tag).putShort((short) type).putInt(count);
    if (type == 3 && count == 1) {
      b.putShort((short) value).putShort((short) 0);
    } else {
      b.putInt(value);
    }
  }

  /**
   * A {@code width×height} 8-bit RGB PNG of one colour, with an iCCP chunk holding
   * {@code iccProfile} when it is not null (untagged otherwise: no iCCP, sRGB, gAMA or cHRM).
   */
  static ByteBuffer flatPng(int width, int height, int r, int g, int b, byte[] iccProfile) {
    ByteArrayOutputStream idat = new ByteArrayOutputStream();
    try (DeflaterOutputStream z = new DeflaterOutputStream(idat)) {
      byte[] row = new byte[1 + 3 * width];
      for (int x = 0; x < width; x++) {
        row[1 + 3 * x] = (byte) r;
        row[2 + 3 * x] = (byte) g;
        row[3 + 3 * x] = (byte) b;
      }
      for (int y = 0; y < height; y++) {
        z.write(row);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    png.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
    chunk(png, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height)
        .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0).array());
    if (iccProfile != null) {
      // iCCP: profile name, NUL, compression method 0, zlib stream
      ByteArrayOutputStream iccp = new ByteArrayOutputStream();
      iccp.writeBytes("icc\0\0".getBytes(StandardCharsets.US_ASCII));
      try (DeflaterOutputStream z = new DeflaterOutputStream(iccp)) {
        z.write(iccProfile);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      chunk(png, "iCCP", iccp.toByteArray());
    }
    chunk(png, "IDAT", idat.toByteArray());
    chunk(png, "IEND", new byte[0]);
    return ByteBuffer.wrap(png.toByteArray());
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
    CRC32 crc = new CRC32();
    crc.update(typeBytes);
    crc.update(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
    out.writeBytes(typeBytes);
    out.writeBytes(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }

  /**
   * A baseline JPEG header (SOI, SOF0) claiming {@code width×height} pixels with no scan data:
   * a JPEG bomb's header.
   */
  static ByteBuffer jpegBombHeader(int width, int height) {
    ByteBuffer b = ByteBuffer.allocate(2 + 2 + 2 + 15 + 2);
    b.put((byte) 0xFF).put((byte) 0xD8);
    b.put((byte) 0xFF).put((byte) 0xC0).putShort((short) 17).put((byte) 8)
        .putShort((short) height).putShort((short) width).put((byte) 3);
    for (int c = 1; c <= 3; c++) {
      b.put((byte) c).put((byte) 0x11).put((byte) 0);
    }
    b.put((byte) 0xFF).put((byte) 0xD9);
    return b.flip();
  }

  /** The first {@code fraction} of a fixture, as a cut-off download would leave it. */
  static ByteBuffer truncated(String name, double fraction) {
    byte[] all = bytes(name);
    return ByteBuffer.wrap(java.util.Arrays.copyOf(all, (int) (all.length * fraction)));
  }

  /** Encodes a picture as BMP with the JDK's writer. */
  static ByteBuffer bmp(String name) {
    try {
      BufferedImage src = ImageIO.read(new ByteArrayInputStream(bytes(name)));
      BufferedImage rgb = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_INT_RGB);
      rgb.createGraphics().drawImage(src, 0, 0, null);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      if (!ImageIO.write(rgb, "bmp", out)) {
        throw new AssertionError("no BMP writer");
      }
      return ByteBuffer.wrap(out.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Mean red, green and blue over a rectangle of an 8-bit picture. */
  static double[] meanRgb(BufferedImage image, int x0, int y0, int w, int h) {
    double r = 0;
    double g = 0;
    double b = 0;
    for (int y = y0; y < y0 + h; y++) {
      for (int x = x0; x < x0 + w; x++) {
        int p = image.getRGB(x, y);
        r += (p >>> 16) & 0xFF;
        g += (p >>> 8) & 0xFF;
        b += p & 0xFF;
      }
    }
    double n = (double) w * h;
    return new double[] {r / n, g / n, b / n};
  }

  /** The SOFn marker (0xC0..0xCF except C4, C8, CC) and component count of a JPEG: {marker, Nf}. */
  static int[] jpegFrame(byte[] jpeg) {
    int at = 2;
    while (at + 4 <= jpeg.length) {
      if ((jpeg[at] & 0xFF) != 0xFF) {
        throw new AssertionError("JPEG marker expected at " + at);
      }
      int marker = jpeg[at + 1] & 0xFF;
      int length = ((jpeg[at + 2] & 0xFF) << 8) | (jpeg[at + 3] & 0xFF);
      if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
        return new int[] {marker, jpeg[at + 9] & 0xFF};
      }
      at += 2 + length;
    }
    throw new AssertionError("no SOF marker in the JPEG");
  }

  /** PNG IHDR bit depth and colour type: {depth, colourType}. */
  static int[] pngHeader(byte[] png) {
    return new int[] {png[24] & 0xFF, png[25] & 0xFF};
  }

  /** A grey 600x200 PNG with a 40x40 red square at x=30, y=80, for smart-crop tests. */
  static ByteBuffer greyWithRedSquare() {
    BufferedImage image = new BufferedImage(600, 200, BufferedImage.TYPE_INT_RGB);
    java.awt.Graphics2D g = image.createGraphics();
    g.setColor(new java.awt.Color(128, 128, 128));
    g.fillRect(0, 0, 600, 200);
    g.setColor(new java.awt.Color(220, 30, 30));
    g.fillRect(30, 80, 40, 40);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(image, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return ByteBuffer.wrap(out.toByteArray());
  }
}
