package dev.wimg.imaging.internal;

import dev.wimg.imaging.ImageEngine;
import dev.wimg.imaging.ImageFormat;
import dev.wimg.imaging.ImageInfo;
import dev.wimg.imaging.ImageRequestException;
import dev.wimg.imaging.Limits;
import dev.wimg.imaging.TransformResult;
import dev.wimg.imaging.TransformSpec;
import dev.wimg.imaging.TransformSpec.Gravity;
import dev.wimg.imaging.TransformSpec.Mode;
import java.awt.AlphaComposite;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pure-Java engine, for machines without libvips: ImageIO with TwelveMonkeys' JPEG reader
 * (CMYK and YCCK JPEGs, broken ICC profiles), JPEG, PNG, GIF (first frame), BMP and TIFF in,
 * JPEG and PNG out. The grammar and the output sizes are the libvips engine's; what it cannot do
 * (WebP or AVIF in or out, {@code gravity=smart}) is a 501.
 *
 * <p>Pipeline: sniff (415) → reader for the format (501) → width and height from the header,
 * checked against {@link Limits#maxSourcePixels()} before any pixel is decoded (422) → decode
 * only the crop's area (mapped to stored pixels), subsampled on read to no less than twice the
 * output size → EXIF orientation → resize (progressive halving) → pad → rotate/flip/flop → grey
 * → blur → flatten alpha for JPEG → encode in memory. A decoder warning about a premature end of
 * data is a 422, like libvips with {@code fail_on=truncated}.
 *
 * <p>Known differences from libvips: {@code strip=0} keeps no metadata (the ImageIO writers write
 * none); colour profiles other than CMYK are not converted; the JPEG encoder is libjpeg 6b's
 * (larger files at equal quality).
 */
public final class JavaImageEngine implements ImageEngine {

  private static final Logger LOG = LoggerFactory.getLogger(JavaImageEngine.class);

  /** JPEG quality when the request gives none, as in the libvips engine. */
  static final int DEFAULT_JPEG_QUALITY = VipsEngine.DEFAULT_JPEG_QUALITY;
  /** Subsampled decoding keeps at least this many source pixels per output pixel, per axis. */
  private static final int SUBSAMPLE_MARGIN = 2;

  private static final Map<ImageFormat, String> READERS = Map.of(ImageFormat.JPEG, "jpeg",
      ImageFormat.PNG, "png", ImageFormat.GIF, "gif", ImageFormat.BMP, "bmp",
      ImageFormat.TIFF, "tiff");
  private static final Set<ImageFormat> WRITABLE = Set.of(ImageFormat.JPEG, ImageFormat.PNG);

  private final Limits limits;

  public JavaImageEngine(Limits limits) {
    this.limits = limits;
    // ImageIO finds TwelveMonkeys' plugins through the class path once per class loader.
    ImageIO.scanForPlugins();
    LOG.debug("java engine: readers {}", READERS.values());
  }

  @Override
  public String name() {
    return "java " + Runtime.version().feature() + " ImageIO";
  }

  @Override
  public Set<String> outputFormats() {
    return Set.of("jpeg", "png");
  }

  /** Whether this engine reads a format. */
  public static boolean reads(ImageFormat format) {
    return READERS.containsKey(format);
  }

  @Override
  public ImageInfo probe(ByteBuffer source) {
    ImageFormat format = SourceChecks.format(source);
    ImageReader reader = reader(format, source);
    try {
      int width = reader.getWidth(0);
      int height = reader.getHeight(0);
      int pages = format == ImageFormat.GIF ? Math.max(1, reader.getNumImages(true)) : 1;
      int orientation = format == ImageFormat.JPEG ? ExifOrientation.read(source) : 1;
      return new ImageInfo(format, width, height, pages, hasAlpha(reader), orientation);
    } catch (IOException | RuntimeException e) {
      throw undecodable(e);
    } finally {
      reader.dispose();
    }
  }

  @Override
  public TransformResult transform(ByteBuffer source, TransformSpec spec, String acceptHeader) {
    ImageFormat format = SourceChecks.format(source);
    if (spec.gravity() == Gravity.SMART) {
      throw new ImageRequestException(ImageRequestException.NOT_IMPLEMENTED,
          "the java engine cannot do gravity=smart; it needs libvips");
    }
    Budget budget = new Budget();
    ImageReader reader = reader(format, source);
    BufferedImage image;
    ImageFormat output;
    Geometry.Size target;
    try {
      int storedWidth = reader.getWidth(0);
      int storedHeight = reader.getHeight(0);
      SourceChecks.checkPixels(storedWidth, storedHeight, limits);
      checkDecodedSize(reader, storedWidth, storedHeight);
      output = OutputFormatChoice.choose(spec.format(), format, hasAlpha(reader), acceptHeader,
          WRITABLE, "java");
      int orientation = format == ImageFormat.JPEG ? ExifOrientation.read(source) : 1;
      boolean swapped = orientation >= 5;
      int shownWidth = swapped ? storedHeight : storedWidth;
      int shownHeight = swapped ? storedWidth : storedHeight;
      ImageReadParam param = reader.getDefaultReadParam();
      int regionWidth = shownWidth;
      int regionHeight = shownHeight;
      if (spec.crop() != null) {
        Orientation.checkInside(spec.crop(), shownWidth, shownHeight);
        int[] r = Orientation.storedRect(spec.crop(), storedWidth, storedHeight, orientation);
        param.setSourceRegion(new Rectangle(r[0], r[1], r[2], r[3]));
        regionWidth = spec.crop().width();
        regionHeight = spec.crop().height();
      }
      // From the region's full size: subsampling below must not change the output size.
      target = Geometry.plan(spec, regionWidth, regionHeight, limits).scaled();
      int subsample = (int) Math.max(1, Math.min(
          regionWidth / ((double) SUBSAMPLE_MARGIN * target.width()),
          regionHeight / ((double) SUBSAMPLE_MARGIN * target.height())));
      if (subsample > 1) {
        param.setSourceSubsampling(subsample, subsample, 0, 0);
      }
      TruncationWatch watch = new TruncationWatch();
      reader.addIIOReadWarningListener(watch);
      BufferedImage decoded = budget.abortable(reader::abort, () -> reader.read(0, param));
      if (watch.warning != null) {
        throw SourceChecks.undecodable(watch.warning);
      }
      image = Turns.upright(standard(decoded), orientation);
    } catch (IOException | RuntimeException e) {
      if (e instanceof ImageRequestException r) {
        throw r;
      }
      throw undecodable(e);
    } finally {
      reader.dispose();
    }
    budget.check();
    image = resize(image, target, spec, output != ImageFormat.JPEG);
    budget.check();
    image = Turns.apply(image, spec.rotate() / 90, spec.flip(), spec.flop());
    if (spec.gray()) {
      image = gray(image);
    }
    if (spec.blur() > 0) {
      budget.check();
      image = GaussianBlur.blur(image, spec.blur());
    }
    budget.check();
    if (output == ImageFormat.JPEG && image.getColorModel().hasAlpha()) {
      image = flatten(image, spec.background());
    }
    if (spec.gray() && !image.getColorModel().hasAlpha()) {
      image = toByteGray(image);
    }
    ByteBuffer bytes = encode(image, output, spec, budget);
    return new TransformResult(bytes, output, image.getWidth(), image.getHeight());
  }

  private static BufferedImage resize(BufferedImage image, Geometry.Size target,
                                      TransformSpec spec, boolean outputHasAlpha) {
    BufferedImage scaled = Scaler.scale(image, target.width(), target.height());
    boolean turn = Orientation.rotationSwapsSides(spec);
    int boxW = turn ? spec.height() : spec.width();
    int boxH = turn ? spec.width() : spec.height();
    Gravity gravity = Orientation.beforeRotation(spec);
    if (spec.mode() == Mode.FILL) {
      int x = offset(scaled.getWidth() - boxW, gravity == Gravity.WEST, gravity == Gravity.EAST);
      int y = offset(scaled.getHeight() - boxH, gravity == Gravity.NORTH, gravity == Gravity.SOUTH);
      return copy(scaled.getSubimage(x, y, boxW, boxH));
    }
    if (spec.mode() == Mode.PAD) {
      int rgba = spec.background();
      boolean alpha = scaled.getColorModel().hasAlpha() || (outputHasAlpha && (rgba & 0xFF) != 0xFF);
      BufferedImage canvas = new BufferedImage(boxW, boxH,
          alpha ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB);
      Graphics2D g = canvas.createGraphics();
      try {
        g.setComposite(AlphaComposite.Src);
        g.setColor(new Color(rgba >>> 24, (rgba >>> 16) & 0xFF, (rgba >>> 8) & 0xFF,
            outputHasAlpha ? rgba & 0xFF : 0xFF));
        g.fillRect(0, 0, boxW, boxH);
        int x = offset(boxW - scaled.getWidth(), gravity == Gravity.WEST, gravity == Gravity.EAST);
        int y = offset(boxH - scaled.getHeight(), gravity == Gravity.NORTH, gravity == Gravity.SOUTH);
        g.drawImage(scaled, x, y, null);
      } finally {
        g.dispose();
      }
      return canvas;
    }
    return scaled;
  }

  /** Where along an axis with {@code room} spare pixels the kept or placed part starts. */
  private static int offset(int room, boolean low, boolean high) {
    return low ? 0 : high ? room : room / 2;
  }

  /** ARGB when the picture has alpha, RGB otherwise: the two layouts the later steps handle. */
  private static BufferedImage standard(BufferedImage decoded) {
    int type = decoded.getColorModel().hasAlpha() ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB;
    if (decoded.getType() == type) {
      return decoded;
    }
    BufferedImage out = new BufferedImage(decoded.getWidth(), decoded.getHeight(), type);
    Graphics2D g = out.createGraphics();
    try {
      g.setComposite(AlphaComposite.Src);
      g.drawImage(decoded, 0, 0, null);
    } finally {
      g.dispose();
    }
    return out;
  }

  private static BufferedImage copy(BufferedImage sub) {
    BufferedImage out = new BufferedImage(sub.getWidth(), sub.getHeight(), sub.getType());
    Graphics2D g = out.createGraphics();
    try {
      g.setComposite(AlphaComposite.Src);
      g.drawImage(sub, 0, 0, null);
    } finally {
      g.dispose();
    }
    return out;
  }

  /** Luma (Rec. 709 weights on the sRGB values, as libvips' b-w) in all three channels. */
  private static BufferedImage gray(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    int[] p = image.getRGB(0, 0, w, h, null, 0, w);
    for (int i = 0; i < p.length; i++) {
      int v = p[i];
      int y = (int) Math.round(0.2126 * ((v >>> 16) & 0xFF) + 0.7152 * ((v >>> 8) & 0xFF)
          + 0.0722 * (v & 0xFF));
      p[i] = (v & 0xFF000000) | y << 16 | y << 8 | y;
    }
    BufferedImage out = new BufferedImage(w, h, image.getType());
    out.setRGB(0, 0, w, h, p, 0, w);
    return out;
  }

  /** One 8-bit channel, so a grey JPEG or PNG is written as grey. */
  private static BufferedImage toByteGray(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
    int[] p = image.getRGB(0, 0, w, h, null, 0, w);
    byte[] g = new byte[p.length];
    for (int i = 0; i < p.length; i++) {
      g[i] = (byte) p[i];
    }
    out.getRaster().setDataElements(0, 0, w, h, g);
    return out;
  }

  private static BufferedImage flatten(BufferedImage image, int rgba) {
    BufferedImage out = new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    try {
      g.setColor(new Color(rgba >>> 24, (rgba >>> 16) & 0xFF, (rgba >>> 8) & 0xFF));
      g.fillRect(0, 0, out.getWidth(), out.getHeight());
      g.drawImage(image, 0, 0, null);
    } finally {
      g.dispose();
    }
    return out;
  }

  private static ByteBuffer encode(BufferedImage image, ImageFormat output, TransformSpec spec,
                                   Budget budget) {
    Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName(
        output == ImageFormat.JPEG ? "jpeg" : "png");
    if (!writers.hasNext()) {
      throw new ImageRequestException(ImageRequestException.NOT_IMPLEMENTED,
          "the java engine has no " + output.token() + " writer");
    }
    ImageWriter writer = writers.next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam param = writer.getDefaultWriteParam();
      if (output == ImageFormat.JPEG) {
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        int q = spec.quality() == TransformSpec.UNSET ? DEFAULT_JPEG_QUALITY : spec.quality();
        param.setCompressionQuality(q / 100f);
      }
      if (param.canWriteProgressive()) {
        param.setProgressiveMode(spec.progressive()
            ? ImageWriteParam.MODE_DEFAULT : ImageWriteParam.MODE_DISABLED);
      }
      budget.abortable(writer::abort, () -> {
        writer.write(null, new IIOImage(image, null, null), param);
        return null;
      });
    } catch (IOException e) {
      throw new UncheckedIOException("encoding to memory failed", e);
    } finally {
      writer.dispose();
    }
    return ByteBuffer.wrap(bytes.toByteArray());
  }

  /** Work that may throw {@link IOException}. */
  private interface IoWork<T> {
    T run() throws IOException;
  }

  /**
   * One transform's time budget, {@link Limits#maxTransformMillis()} from its start, as the
   * libvips engine keeps it: ImageIO's readers and writers stop when told to ({@code abort()},
   * which they check between rows), so decoding and encoding are told at the deadline; the steps
   * between are checked before they start (each is bounded by the output limit).
   */
  private final class Budget {
    private final long deadline = System.nanoTime() + limits.maxTransformMillis() * 1_000_000L;

    /** Runs {@code work}, calling {@code abort} if it is still running at the deadline. */
    <T> T abortable(Runnable abort, IoWork<T> work) throws IOException {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw overBudget();
      }
      java.util.concurrent.atomic.AtomicBoolean aborted =
          new java.util.concurrent.atomic.AtomicBoolean();
      // The JDK's shared delay scheduler: no thread of our own per engine or per transform.
      java.util.concurrent.CompletableFuture<Void> watch =
          java.util.concurrent.CompletableFuture.runAsync(() -> {
            aborted.set(true);
            abort.run();
          }, java.util.concurrent.CompletableFuture.delayedExecutor(left,
              java.util.concurrent.TimeUnit.NANOSECONDS));
      T result;
      try {
        result = work.run();
      } finally {
        watch.cancel(false);
      }
      if (aborted.get()) {
        throw overBudget();
      }
      return result;
    }

    /** Throws the 503 when the deadline has passed. */
    void check() {
      if (System.nanoTime() - deadline > 0) {
        throw overBudget();
      }
    }

    private ImageRequestException overBudget() {
      return SourceChecks.overBudget(limits);
    }
  }

  private ImageReader reader(ImageFormat format, ByteBuffer source) {
    String name = READERS.get(format);
    if (name == null) {
      throw new ImageRequestException(ImageRequestException.NOT_IMPLEMENTED,
          "the java engine cannot read " + format.token() + " pictures; they need libvips");
    }
    Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(name);
    if (!readers.hasNext()) {
      throw new ImageRequestException(ImageRequestException.NOT_IMPLEMENTED,
          "the java engine has no " + format.token() + " reader");
    }
    ImageReader reader = readers.next();
    reader.setInput(new ByteBufferImageInputStream(source), true, true);
    return reader;
  }

  /** {@link SourceChecks#checkDecodedSize} with the bands and sample size the reader reports. */
  private void checkDecodedSize(ImageReader reader, int width, int height) throws IOException {
    ImageTypeSpecifier type = reader.getRawImageType(0);
    if (type == null) {
      Iterator<ImageTypeSpecifier> types = reader.getImageTypes(0);
      type = types.hasNext() ? types.next() : null;
    }
    if (type != null) {
      java.awt.image.SampleModel model = type.getSampleModel(1, 1);
      int bits = 0;
      for (int size : model.getSampleSize()) {
        bits = Math.max(bits, size);
      }
      SourceChecks.checkDecodedSize(width, height, model.getNumBands(), Math.max(1, (bits + 7) / 8),
          limits);
    }
  }

  private static boolean hasAlpha(ImageReader reader) throws IOException {
    ImageTypeSpecifier type = reader.getRawImageType(0);
    if (type == null) {
      Iterator<ImageTypeSpecifier> types = reader.getImageTypes(0);
      type = types.hasNext() ? types.next() : null;
    }
    return type != null && type.getColorModel().hasAlpha();
  }

  private static ImageRequestException undecodable(Exception e) {
    return SourceChecks.undecodable(
        e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
  }

  /** Keeps the first decoder warning that says the data ended early. */
  private static final class TruncationWatch implements javax.imageio.event.IIOReadWarningListener {
    String warning;

    @Override
    public void warningOccurred(ImageReader source, String message) {
      if (warning == null && message != null
          && message.toLowerCase(Locale.ROOT).contains("premature end")) {
        warning = message;
      }
    }
  }
}
