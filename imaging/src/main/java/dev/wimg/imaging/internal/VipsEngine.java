package dev.wimg.imaging.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.wimg.imaging.ImageEngine;
import dev.wimg.imaging.ImageFormat;
import dev.wimg.imaging.ImageInfo;
import dev.wimg.imaging.ImageRequestException;
import dev.wimg.imaging.Limits;
import dev.wimg.imaging.NativeMemory;
import dev.wimg.imaging.TransformResult;
import dev.wimg.imaging.TransformSpec;
import dev.wimg.imaging.TransformSpec.Gravity;
import dev.wimg.imaging.TransformSpec.Mode;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The libvips engine: every transform is one libvips pipeline, run in the calling thread.
 *
 * <p>Pipeline, in order (each step only when asked):
 * <ol>
 *   <li>Sniff the format from the magic bytes (415 if none) and check libvips has a trusted
 *       loader for it (501 if not).
 *   <li>Read the header only ({@code vips_image_new_from_buffer}, sequential access) and refuse a
 *       source over {@link Limits#maxSourcePixels()} before any pixel is decoded (422).
 *   <li>Without a crop: {@code vips_thumbnail_buffer}, which uses shrink-on-load (JPEG DCT
 *       scaling, WebP/HEIF/SVG scale-on-load), applies the EXIF orientation, crops for
 *       {@code fill} by gravity and converts CMYK or profiled sources to sRGB (untagged sources
 *       are sRGB and keep their values). With a crop: the
 *       crop is mapped to stored pixels ({@link Orientation#storedRect}), cut from a sequential
 *       image (a JPEG is loaded at 1/2, 1/4 or 1/8 when the output is that much smaller than the
 *       crop), and {@code vips_thumbnail_image} does the rest.
 *   <li>8-bit sRGB (or 8-bit grey) from any other colour space or depth; pad; rotate; flip;
 *       flop; grey; blur; flatten alpha onto {@code bg} for JPEG; encode.
 * </ol>
 * Every image made is unreferenced when the transform ends, success or not, before the native
 * copy of the source (if one was made) is freed; the encoded output is copied to the Java heap
 * once and its libvips buffer freed at once.
 *
 * <p>libvips errors are read from its process-wide error buffer and cleared; a failure while
 * loading or processing is a 422 naming libvips' reason.
 */
public final class VipsEngine implements ImageEngine {

  private static final Logger LOG = LoggerFactory.getLogger(VipsEngine.class);

  /** JPEG quality when the request gives none (libvips' own default is 75). */
  static final int DEFAULT_JPEG_QUALITY = 80;
  /** WebP quality when the request gives none. */
  static final int DEFAULT_WEBP_QUALITY = 80;
  /** AVIF quality when the request gives none: AV1 at 55 looks like JPEG at 80. */
  static final int DEFAULT_AVIF_QUALITY = 55;
  /**
   * AVIF encoder effort, 0 (fastest) .. 9 (smallest): 2 keeps a 300 px encode in the tens of
   * milliseconds instead of hundreds at libvips' default of 4.
   */
  static final int AVIF_EFFORT = 2;
  /** Files libvips' cache may keep open: none, every source is a buffer. */
  private static final int CACHE_MAX_FILES = 0;

  private final Vips vips;
  private final Vips.Enums e;
  private final Limits limits;
  private final Set<ImageFormat> writable;
  private final Set<ImageFormat> readable;
  private final WorkingMemory memory;

  private VipsEngine(Vips vips, Limits limits) {
    this.vips = vips;
    this.e = vips.enums();
    this.limits = limits;
    this.memory = new WorkingMemory(limits.maxTransformMemory());
    EnumSet<ImageFormat> loads = EnumSet.noneOf(ImageFormat.class);
    for (ImageFormat format : ImageFormat.values()) {
      if (vips.hasOperation(loaderKeyword(format) + "load_buffer")) {
        loads.add(format);
      }
    }
    this.readable = Set.copyOf(loads);
    EnumSet<ImageFormat> formats = EnumSet.of(ImageFormat.JPEG, ImageFormat.PNG, ImageFormat.WEBP);
    if (vips.canSaveAvif()) {
      formats.add(ImageFormat.AVIF);
    }
    this.writable = Set.copyOf(formats);
  }

  /**
   * Binds libvips (once per process) and applies the limits' thread and cache bounds, which are
   * process-wide in libvips: the last engine created sets them.
   *
   * @throws UnsupportedOperationException when libvips cannot be loaded, naming why
   */
  public static VipsEngine create(Limits limits) {
    Vips vips = Vips.load();
    vips.concurrencySet(limits.threadsPerTransform());
    vips.cacheSet(limits.nativeCacheOperations(), limits.nativeCacheBytes(), CACHE_MAX_FILES);
    VipsEngine engine = new VipsEngine(vips, limits);
    LOG.info("imaging engine {}: {} threads per transform, cache {} operations / {} bytes, "
        + "reads {}, writes {}", engine.name(), limits.threadsPerTransform(),
        limits.nativeCacheOperations(), limits.nativeCacheBytes(), engine.readable,
        engine.writable);
    return engine;
  }

  /** Whether this libvips has a (trusted) loader for a format. */
  public boolean reads(ImageFormat format) {
    return readable.contains(format);
  }

  /** The binding, for tests that watch libvips' memory. */
  public Vips vips() {
    return vips;
  }

  @Override
  public String name() {
    return "libvips " + vips.version();
  }

  @Override
  public NativeMemory nativeMemory() {
    return new NativeMemory(vips.trackedMemory(), vips.trackedMemoryHighWater(),
        vips.trackedAllocations(), memory.reserved(), limits.maxTransformMemory());
  }

  @Override
  public Set<String> outputFormats() {
    return writable.stream().map(ImageFormat::token).collect(Collectors.toUnmodifiableSet());
  }

  @Override
  public ImageInfo probe(ByteBuffer source) {
    ImageFormat format = SourceChecks.format(source);
    try (Call call = new Call()) {
      MemorySegment header = call.header(source, format);
      int orientation = vips.orientation(header);
      ImageInfo info = new ImageInfo(format, vips.width(header), vips.height(header),
          Math.max(1, vips.pages(header)), vips.hasAlpha(header),
          orientation >= 1 && orientation <= 8 ? orientation : 1);
      vips.errorClear();
      return info;
    }
  }

  @Override
  public TransformResult transform(ByteBuffer source, TransformSpec spec, String acceptHeader) {
    ImageFormat format = SourceChecks.format(source);
    try (Call call = new Call()) {
      MemorySegment header = call.header(source, format);
      int storedWidth = vips.width(header);
      int storedHeight = vips.height(header);
      SourceChecks.checkPixels(storedWidth, storedHeight, limits);
      SourceChecks.checkDecodedSize(storedWidth, storedHeight, vips.bands(header),
          vips.bytesPerBand(vips.bandFormat(header)), limits);
      int orientation = vips.orientation(header);
      orientation = orientation >= 1 && orientation <= 8 ? orientation : 1;
      boolean swapped = orientation >= 5;
      int width = swapped ? storedHeight : storedWidth;
      int height = swapped ? storedWidth : storedHeight;
      // Only a tagged or CMYK source is converted: an untagged one is sRGB already (see
      // Vips#thumbnailBuffer for what converting it anyway does).
      boolean toSrgb = vips.hasIccProfile(header) || vips.interpretation(header) == e.interpretationCmyk();
      ImageFormat output = OutputFormatChoice.choose(spec.format(), format,
          vips.hasAlpha(header), acceptHeader, writable, "libvips");

      TransformSpec.Crop crop = spec.crop();
      if (crop != null) {
        Orientation.checkInside(crop, width, height);
      }
      Geometry.Plan plan = crop != null ? Geometry.plan(spec, crop.width(), crop.height(), limits)
          : Geometry.plan(spec, width, height, limits);
      boolean turned = spec.rotate() != 0 || spec.flip();
      long decodedBytes = (long) storedWidth * storedHeight * vips.bands(header)
          * vips.bytesPerBand(vips.bandFormat(header));
      long outputPixels = (long) plan.output().width() * plan.output().height();
      long estimate = WorkingMemory.estimate(format, vips.interlaced(header), decodedBytes,
          turned ? 4 * outputPixels : 0, output, outputPixels);
      try (WorkingMemory.Permit permit = memory.enter(estimate,
          format.token().toUpperCase(Locale.ROOT) + " " + storedWidth + "x" + storedHeight,
          limits.maxTransformMillis() * 1_000_000L)) {
        // The time budget counts from here: a wait for memory is bounded by its own deadline.
        call.startClock();
        return transform(call, format, header, spec, orientation, plan, toSrgb, output);
      }
    }
  }

  /** The transform proper, once its source's header passed the checks and its memory is reserved. */
  private TransformResult transform(Call call, ImageFormat format, MemorySegment header,
                                    TransformSpec spec, int orientation, Geometry.Plan plan,
                                    boolean toSrgb, ImageFormat output) {
    int storedWidth = vips.width(header);
    int storedHeight = vips.height(header);
    boolean swapped = orientation >= 5;
    int width = swapped ? storedHeight : storedWidth;
    int height = swapped ? storedWidth : storedHeight;
    MemorySegment image;
    Resize resize;
    if (spec.crop() != null) {
      TransformSpec.Crop crop = spec.crop();
      int[] r = Orientation.storedRect(crop, storedWidth, storedHeight, orientation);
      Geometry.Size target = plan.scaled();
      int shrink = format == ImageFormat.JPEG ? jpegShrink(crop, target) : 1;
      MemorySegment base = header;
      if (shrink > 1) {
        base = call.own(vips.jpegNewFromBuffer(call.data, e.accessSequential(),
            call.failOn, shrink), "read the header");
        r = shrinkRect(r, shrink, vips.width(base), vips.height(base));
      }
      MemorySegment cropped = call.image(vips.crop(base, call.slot(), r[0], r[1], r[2], r[3]),
          "crop");
      resize = resize(spec, crop.width(), crop.height());
      if (shrink > 1 && spec.mode() != Mode.FILL) {
        // The shrunk region's ratio is off by under a pixel: force the exact size the
        // unshrunk region would give, so the output size does not depend on this shortcut.
        resize = new Resize(target.width(), target.height(), e.sizeForce(),
            e.interestingNone(), resize.boxWidth, resize.boxHeight, resize.gravity);
      }
      image = call.image(vips.thumbnailImage(cropped, call.slot(), resize.width, resize.height,
          resize.size, resize.interesting, toSrgb), "resize");
    } else {
      resize = resize(spec, width, height);
      image = call.image(vips.thumbnailBuffer(call.data, call.slot(), resize.width,
          resize.height, resize.size, resize.interesting, toSrgb, format == ImageFormat.JPEG),
          "resize");
    }

    image = eightBit(call, image, spec.gray());
    if (spec.mode() == Mode.PAD) {
      image = pad(call, image, resize, spec.background(), output != ImageFormat.JPEG);
    }
    if (spec.rotate() != 0 || spec.flip()) {
      // A rotation or a vertical flip asks for the picture's lines out of order; the source is
      // decoded sequentially, so an extreme ratio (a 1 x 262,144 column stretched) failed with
      // "out of order read". The resized picture is at most Limits#maxOutputPixels: computing it
      // into memory first costs that much memory and gives them random access.
      image = call.materialize(image, "rotate");
    }
    if (spec.rotate() != 0) {
      int angle = switch (spec.rotate()) {
        case 90 -> e.angleD90();
        case 180 -> e.angleD180();
        default -> e.angleD270();
      };
      image = call.image(vips.rot(image, call.slot(), angle), "rotate");
    }
    if (spec.flip()) {
      image = call.image(vips.flip(image, call.slot(), e.directionVertical()), "flip");
    }
    if (spec.flop()) {
      image = call.image(vips.flip(image, call.slot(), e.directionHorizontal()), "flop");
    }
    if (spec.blur() > 0) {
      image = call.image(vips.gaussblur(image, call.slot(), spec.blur()), "blur");
    }
    if (output == ImageFormat.JPEG && vips.hasAlpha(image)) {
      MemorySegment bg = call.doubles(background(vips.bands(image) - 1, false,
          spec.background() | 0xFF));
      image = call.image(vips.flatten(image, call.slot(), bg), "flatten");
    }
    ByteBuffer bytes = call.save(image, output, spec);
    // Loaders leave warnings in the process-wide error buffer even on success; drop them so a
    // later failure's message is not prefixed with them.
    vips.errorClear();
    return new TransformResult(bytes, output, vips.width(image), vips.height(image));
  }

  /** Largest JPEG load shrink (DCT scaling) that keeps the crop at least the target size. */
  static int jpegShrink(TransformSpec.Crop crop, Geometry.Size target) {
    double factor = Math.min((double) crop.width() / target.width(),
        (double) crop.height() / target.height());
    return factor >= 8 ? 8 : factor >= 4 ? 4 : factor >= 2 ? 2 : 1;
  }

  /** A stored-pixel rectangle in an image loaded at 1/shrink, clamped to its size. */
  static int[] shrinkRect(int[] r, int shrink, int width, int height) {
    int x = Math.min(r[0] / shrink, width - 1);
    int y = Math.min(r[1] / shrink, height - 1);
    int right = Math.min(Math.ceilDiv(r[0] + r[2], shrink), width);
    int bottom = Math.min(Math.ceilDiv(r[1] + r[3], shrink), height);
    return new int[] {x, y, Math.max(1, right - x), Math.max(1, bottom - y)};
  }

  /** Arguments of one {@code vips_thumbnail_*} call; {@code boxWidth×boxHeight} for pad. */
  private record Resize(int width, int height, int size, int interesting, int boxWidth,
                        int boxHeight, Gravity gravity) {
  }

  /**
   * The thumbnail call for a source shown as {@code width×height} (after crop and orientation).
   * The box is turned when the output rotation swaps sides, and the gravity is mapped so the side
   * named in the request is the one kept after rotation and mirroring.
   */
  private Resize resize(TransformSpec spec, int width, int height) {
    boolean turn = Orientation.rotationSwapsSides(spec);
    int boxWidth = turn ? spec.height() : spec.width();
    int boxHeight = turn ? spec.width() : spec.height();
    Gravity gravity = Orientation.beforeRotation(spec);
    return switch (spec.mode()) {
      case FIT -> new Resize(boxWidth == TransformSpec.UNSET ? Vips.MAX_COORD : boxWidth,
          boxHeight == TransformSpec.UNSET ? Vips.MAX_COORD : boxHeight, e.sizeDown(),
          e.interestingNone(), 0, 0, gravity);
      case STRETCH -> new Resize(boxWidth, boxHeight, e.sizeForce(), e.interestingNone(), 0, 0,
          gravity);
      case PAD -> new Resize(boxWidth, boxHeight, e.sizeDown(), e.interestingNone(), boxWidth,
          boxHeight, gravity);
      case FILL -> new Resize(boxWidth, boxHeight, e.sizeBoth(),
          interesting(gravity, (long) width * boxHeight > (long) height * boxWidth), 0, 0, gravity);
    };
  }

  /**
   * libvips crops a filled picture along its one overflowing axis: low keeps the top or left,
   * high the bottom or right. A gravity across that axis (north for a too-wide picture) leaves
   * nothing to choose, so it is centred.
   */
  private int interesting(Gravity gravity, boolean tooWide) {
    return switch (gravity) {
      case CENTER -> e.interestingCentre();
      case SMART -> e.interestingAttention();
      case WEST -> tooWide ? e.interestingLow() : e.interestingCentre();
      case EAST -> tooWide ? e.interestingHigh() : e.interestingCentre();
      case NORTH -> tooWide ? e.interestingCentre() : e.interestingLow();
      case SOUTH -> tooWide ? e.interestingCentre() : e.interestingHigh();
    };
  }

  /** Converts to 8-bit sRGB, or 8-bit grey when the picture is grey or gray is asked. */
  private MemorySegment eightBit(Call call, MemorySegment image, boolean gray) {
    int interpretation = vips.interpretation(image);
    boolean grey = gray || (vips.bands(image) <= 2 && interpretation != e.interpretationSrgb());
    int target = grey ? e.interpretationBw() : e.interpretationSrgb();
    if (interpretation == target && vips.bandFormat(image) == e.formatUchar()) {
      return image;
    }
    return call.image(vips.colourspace(image, call.slot(), target), "colourspace");
  }

  private MemorySegment pad(Call call, MemorySegment image, Resize resize, int rgba,
                            boolean outputHasAlpha) {
    boolean alpha = vips.hasAlpha(image);
    boolean transparentBg = (rgba & 0xFF) != 0xFF;
    if (outputHasAlpha && transparentBg && !alpha) {
      image = call.image(vips.addalpha(image, call.slot()), "add alpha");
      alpha = true;
    }
    int colourBands = vips.bands(image) - (alpha ? 1 : 0);
    MemorySegment bg = call.doubles(background(colourBands, alpha, rgba));
    int direction = switch (resize.gravity) {
      case NORTH -> e.compassNorth();
      case SOUTH -> e.compassSouth();
      case EAST -> e.compassEast();
      case WEST -> e.compassWest();
      case CENTER, SMART -> e.compassCentre();
    };
    return call.image(vips.gravity(image, call.slot(), direction, resize.boxWidth,
        resize.boxHeight, bg), "pad");
  }

  /** A background pixel for an 8-bit image of 1 (grey) or 3 (sRGB) colour bands. */
  static double[] background(int colourBands, boolean alpha, int rgba) {
    double r = (rgba >>> 24) & 0xFF;
    double g = (rgba >>> 16) & 0xFF;
    double b = (rgba >>> 8) & 0xFF;
    double a = rgba & 0xFF;
    double[] colour = colourBands == 1
        ? new double[] {Math.round(0.2126 * r + 0.7152 * g + 0.0722 * b)}
        : new double[] {r, g, b};
    if (!alpha) {
      return colour;
    }
    double[] withAlpha = java.util.Arrays.copyOf(colour, colour.length + 1);
    withAlpha[colour.length] = a;
    return withAlpha;
  }

  /**
   * The word in the name of the libvips loader that reads a format ({@code jpegload_buffer},
   * {@code heifload_buffer}...). A sniffed format must be read by its own loader: for BMP libvips
   * only offers ImageMagick's, which is blocked as untrusted.
   */
  private static String loaderKeyword(ImageFormat format) {
    return switch (format) {
      case JPEG -> "jpeg";
      case PNG -> "png";
      case GIF -> "gif";
      case WEBP -> "webp";
      case AVIF, HEIF -> "heif";
      case TIFF -> "tiff";
      case BMP -> "bmp";
    };
  }

  /**
   * One transform's native resources: the source as a native segment (a copy only when the
   * caller gave a heap buffer), out-parameter slots, and every image and array made, released in
   * reverse order on close.
   */
  private final class Call implements AutoCloseable {
    private final Arena arena = Arena.ofConfined();
    /** When the transform started, System.nanoTime(): its time budget counts from here. */
    private long started = System.nanoTime();
    private final List<MemorySegment> images = new ArrayList<>();
    private final List<MemorySegment> areas = new ArrayList<>();
    private MemorySegment out;
    MemorySegment data;
    /** The loaders' VipsFailOn for this source, set by {@link #header}. */
    int failOn;

    /** Starts the time budget again, once the transform may run (its memory is reserved). */
    void startClock() {
      started = System.nanoTime();
    }

    /** Maps the source and reads its header; the header image is owned by this call. */
    MemorySegment header(ByteBuffer source, ImageFormat format) {
      if (!readable.contains(format)) {
        throw new ImageRequestException(ImageRequestException.NOT_IMPLEMENTED,
            "the libvips engine cannot read " + format.token() + " pictures");
      }
      ByteBuffer slice = source.slice();
      if (slice.isDirect()) {
        data = MemorySegment.ofBuffer(slice);
      } else {
        data = arena.allocate(slice.remaining(), 8);
        data.copyFrom(MemorySegment.ofBuffer(slice));
      }
      String loader = vips.findLoader(data);
      if (loader == null || !loader.toLowerCase(java.util.Locale.ROOT).contains(loaderKeyword(format))) {
        // The magic bytes say the format and its loader is here (checked above), so a loader
        // that does not take the bytes means they are corrupt, not that the format is unknown.
        throw SourceChecks.undecodable("the " + format.token() + " loader does not accept these"
            + " bytes" + (loader == null ? "" : " (libvips would use " + loader + ")"));
      }
      // libjpeg only warns when the scan data ends before the frame its header declares (a
      // 7000x7000 header over 16x16 of data): for JPEG a warning is an error, as a truncation is.
      failOn = format == ImageFormat.JPEG ? e.failOnWarning() : e.failOnTruncated();
      MemorySegment header = vips.imageNewFromBuffer(data, e.accessSequential(), failOn);
      if (header.equals(MemorySegment.NULL)) {
        throw failed("read the header");
      }
      images.add(header);
      return header;
    }

    /**
     * The {@code VipsImage **out} slot for the next operation. One slot serves every operation of
     * the call, which run one after the other; {@link #image} takes what was put in it.
     */
    MemorySegment slot() {
      if (out == null) {
        out = arena.allocate(ADDRESS);
      }
      out.set(ADDRESS, 0, MemorySegment.NULL);
      return out;
    }

    /** An image returned directly by a call, owned from now on; or the call's error as a 422. */
    MemorySegment own(MemorySegment image, String step) {
      if (image.equals(MemorySegment.NULL)) {
        throw failed(step);
      }
      images.add(image);
      return image;
    }

    /** The image the last operation put in the slot, owned from now on; or its error as a 422. */
    MemorySegment image(int status, String step) {
      MemorySegment image = out.get(ADDRESS, 0);
      if (!image.equals(MemorySegment.NULL)) {
        images.add(image);
      }
      if (status != 0 || image.equals(MemorySegment.NULL)) {
        throw failed(step);
      }
      return image;
    }

    MemorySegment doubles(double[] values) {
      MemorySegment array = arena.allocateFrom(JAVA_DOUBLE, values);
      MemorySegment area = vips.arrayDoubleNew(array, values.length);
      areas.add(area);
      return area;
    }

    /** {@code image} computed into memory, under the transform's budget like {@link #save}. */
    MemorySegment materialize(MemorySegment image, String step) {
      MemorySegment deadline = arena.allocate(Vips.DEADLINE_BYTES, 8);
      long watch = vips.watch(image, deadline, started + limits.maxTransformMillis() * 1_000_000L);
      MemorySegment copy;
      try {
        copy = vips.copyMemory(image);
      } finally {
        vips.unwatch(image, watch);
      }
      if (copy.equals(MemorySegment.NULL) && Vips.killed(deadline)) {
        throw overBudget();
      }
      return own(copy, step);
    }

    private ImageRequestException overBudget() {
      vips.errorClear();
      return SourceChecks.overBudget(limits);
    }

    ByteBuffer save(MemorySegment image, ImageFormat output, TransformSpec spec) {
      MemorySegment buf = arena.allocate(ADDRESS);
      MemorySegment len = arena.allocate(JAVA_LONG);
      int q = spec.quality();
      // Pixels are computed while saving (the pipeline is lazy): that is where the budget holds.
      MemorySegment deadline = arena.allocate(Vips.DEADLINE_BYTES, 8);
      long watch = vips.watch(image, deadline,
          started + limits.maxTransformMillis() * 1_000_000L);
      int status;
      try {
        status = encode(image, output, spec, buf, len, q);
      } finally {
        vips.unwatch(image, watch);
      }
      if (status != 0 && Vips.killed(deadline)) {
        throw overBudget();
      }
      if (status != 0) {
        throw failed("encode " + output.token());
      }
      return copyOut(image, output, buf, len);
    }

    private int encode(MemorySegment image, ImageFormat output, TransformSpec spec,
                       MemorySegment buf, MemorySegment len, int q) {
      return switch (output) {
        case JPEG -> vips.jpegsaveBuffer(image, buf, len,
            q == TransformSpec.UNSET ? DEFAULT_JPEG_QUALITY : q, spec.progressive(), spec.strip());
        case PNG -> vips.pngsaveBuffer(image, buf, len, spec.progressive(), spec.strip());
        case WEBP -> vips.webpsaveBuffer(image, buf, len,
            q == TransformSpec.UNSET ? DEFAULT_WEBP_QUALITY : q, spec.strip());
        case AVIF -> vips.avifsaveBuffer(image, buf, len,
            q == TransformSpec.UNSET ? DEFAULT_AVIF_QUALITY : q, spec.strip(), AVIF_EFFORT);
        default -> throw new IllegalStateException("not an output format: " + output);
      };
    }

    private ByteBuffer copyOut(MemorySegment image, ImageFormat output, MemorySegment buf,
                               MemorySegment len) {
      long size = len.get(JAVA_LONG, 0);
      MemorySegment encoded = buf.get(ADDRESS, 0).reinterpret(size);
      try {
        checkDecodes(encoded, output, vips.width(image), vips.height(image));
        byte[] out = new byte[Math.toIntExact(size)];
        MemorySegment.copy(encoded, JAVA_BYTE, 0, out, 0, out.length);
        return ByteBuffer.wrap(out);
      } finally {
        vips.gFree(encoded);
      }
    }

    /**
     * Reads back the header of an encoded output and checks it holds the picture that was
     * encoded: an encoder may fail without saying so (libheif writes a 201-byte AVIF that holds no
     * image for a 1 x 10,000,000 picture), and nothing is sent, cached or saved that does not.
     */
    private void checkDecodes(MemorySegment encoded, ImageFormat output, int width, int height) {
      MemorySegment back = vips.imageNewFromBuffer(encoded, e.accessSequential(),
          e.failOnTruncated());
      String found;
      if (back.equals(MemorySegment.NULL)) {
        found = "does not decode: " + vips.takeError();
      } else {
        int w = vips.width(back);
        int h = vips.height(back);
        vips.gObjectUnref(back);
        if (w == width && h == height) {
          return;
        }
        found = "decodes as " + w + "x" + h;
      }
      throw new ImageRequestException(ImageRequestException.UNPROCESSABLE, "the " + output.token()
          + " encoder cannot write a " + width + "x" + height + " picture: its output ("
          + encoded.byteSize() + " bytes) " + found);
    }

    ImageRequestException failed(String step) {
      String reason = vips.takeError();
      return SourceChecks.undecodable(reason.isEmpty() ? "libvips gave no reason at " + step : reason);
    }

    @Override
    public void close() {
      try {
        for (int i = images.size() - 1; i >= 0; i--) {
          vips.gObjectUnref(images.get(i));
        }
        for (MemorySegment area : areas) {
          vips.areaUnref(area);
        }
      } finally {
        arena.close();
      }
    }
  }
}
