package dev.wimg.imaging.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * A thin binding of the libvips 8.14+ C API (Debian {@code libvips42}), made with
 * {@code java.lang.foreign}: one {@link MethodHandle} per C function used, looked up and linked
 * once per process, with one Java method per function that names its C signature.
 *
 * <p>Contract of the wrappers:
 * <ul>
 *   <li>An {@code int} result is libvips' status: 0 is success, anything else failed and the
 *       reason is in the error buffer ({@link #errorBufferCopy}).
 *   <li>{@code VipsImage **out} parameters are caller-allocated pointer slots; every image a call
 *       puts there is owned by the caller, who must {@link #gObjectUnref} it.
 *   <li>Save functions put a {@code g_malloc}'d buffer in {@code void **buf}; the caller frees it
 *       with {@link #gFree}.
 * </ul>
 *
 * <p>Implementation notes:
 * <ul>
 *   <li>libvips' optional arguments are C varargs: {@code name, value, ..., NULL}. Each wrapper
 *       below always passes the same list of options, so one handle per function suffices; the
 *       handle is linked with {@link Linker.Option#firstVariadicArg} at the first optional
 *       argument, and all option values are {@code int} (enums, gboolean), {@code double} or
 *       pointers, which C's default argument promotions leave unchanged.
 *   <li>Option names and fixed strings are allocated once in the global arena.
 *   <li>Enum values are not copied from C headers: {@link Enums} resolves each one by its nick
 *       through {@code vips_enum_from_nick} when the binding is made, so a libvips whose numbers
 *       differ cannot be driven with wrong ones.
 *   <li>libvips' state (init, cache, concurrency, error buffer) is per process; so is this
 *       binding: {@link #load} returns the same instance every time.
 * </ul>
 */
public final class Vips {

  /** The shared object loaded: the soname of libvips 8.x (Debian package libvips42). */
  public static final String LIBRARY = "libvips.so.42";
  /**
   * System property naming another shared object to load instead of {@link #LIBRARY} (a path or
   * a soname), for a libvips built elsewhere.
   */
  public static final String LIBRARY_PROPERTY = "wimg.libvips";
  /** Oldest libvips this binding supports (major, minor): thumbnail fail_on, block_untrusted. */
  static final int[] MIN_VERSION = {8, 13};
  /** libvips' largest image coordinate (VIPS_MAX_COORD), used as "no limit" for a side. */
  public static final int MAX_COORD = 10_000_000;
  /** Longest error text read back from libvips, in characters. */
  private static final int MAX_ERROR_LENGTH = 400;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final MemoryLayout SIZE_T = JAVA_LONG;

  private final String version;
  private final Enums enums;
  private final SymbolLookup lookup;

  // Fixed strings, allocated once.
  private final MemorySegment sAccess;
  private final MemorySegment sFailOn;
  private final MemorySegment sHeight;
  private final MemorySegment sSize;
  private final MemorySegment sCrop;
  private final MemorySegment sNoRotate;
  private final MemorySegment sExportProfile;
  private final MemorySegment sSrgb;
  private final MemorySegment sExtend;
  private final MemorySegment sBackground;
  private final MemorySegment sQ;
  private final MemorySegment sInterlace;
  private final MemorySegment sStrip;
  private final MemorySegment sCompression;
  private final MemorySegment sEffort;
  private final MemorySegment sEmpty;
  private final MemorySegment sOptionString;
  private final MemorySegment sShrink;
  private final MemorySegment sFailOnTruncated;
  private final MemorySegment sFailOnWarning;

  private final MethodHandle errorBufferCopy;
  private final MethodHandle errorClear;
  private final MethodHandle gFree;
  private final MethodHandle gObjectUnref;
  private final MethodHandle concurrencySet;
  private final MethodHandle cacheSetMax;
  private final MethodHandle cacheSetMaxMem;
  private final MethodHandle cacheSetMaxFiles;
  private final MethodHandle leakSet;
  private final MethodHandle objectMap;
  /** Upcall stub for {@link #liveObjects}, made on first use. */
  private MemorySegment countStub;
  private final MethodHandle trackedGetMem;
  private final MethodHandle trackedGetAllocs;
  private final MethodHandle trackedGetMemHighwater;
  private final MethodHandle signalConnectData;
  private final MethodHandle signalHandlerDisconnect;
  private final MethodHandle imageSetProgress;
  private final MethodHandle imageSetKill;
  private final MemorySegment sEval;
  /** Upcall stub of {@link #onEval}, bound to this binding. */
  private final MemorySegment evalStub;
  private final MethodHandle foreignFindLoadBuffer;
  private final MethodHandle imageNewFromBuffer;
  private final MethodHandle imageNewFromBufferShrunk;
  private final MethodHandle thumbnailBuffer;
  private final MethodHandle thumbnailImage;
  private final MethodHandle crop;
  private final MethodHandle rot;
  private final MethodHandle flip;
  private final MethodHandle copyMemory;
  private final MethodHandle colourspace;
  private final MethodHandle gaussblur;
  private final MethodHandle gravity;
  private final MethodHandle flatten;
  private final MethodHandle addalpha;
  private final MethodHandle jpegsaveBuffer;
  private final MethodHandle pngsaveBuffer;
  private final MethodHandle webpsaveBuffer;
  private final MethodHandle heifsaveBuffer;
  private final MethodHandle arrayDoubleNew;
  private final MethodHandle areaUnref;
  private final MethodHandle getWidth;
  private final MethodHandle getHeight;
  private final MethodHandle getBands;
  private final MethodHandle getFormat;
  private final MethodHandle getInterpretation;
  private final MethodHandle getNPages;
  private final MethodHandle getOrientation;
  private final MethodHandle hasAlpha;
  private final MethodHandle formatSizeof;
  private final MethodHandle getTypeof;
  private final MemorySegment sIccProfileData;
  private final MemorySegment sInterlaced;
  private final boolean heifSave;

  /**
   * Enum values of libvips used by WIMG, resolved by nick when the binding is made.
   *
   * @param accessSequential   VipsAccess "sequential": top-to-bottom reading, no full decode
   * @param failOnTruncated    VipsFailOn "truncated": a truncated file is an error, not grey
   * @param sizeBoth           VipsSize "both": up or down
   * @param sizeDown           VipsSize "down": never enlarge
   * @param sizeForce          VipsSize "force": exactly the box, ratio not kept
   * @param interestingNone    VipsInteresting "none": fit, no crop
   * @param interestingCentre  VipsInteresting "centre"
   * @param interestingLow     VipsInteresting "low": keep the low coordinate (top or left)
   * @param interestingHigh    VipsInteresting "high": keep the high coordinate (bottom or right)
   * @param interestingAttention VipsInteresting "attention": libvips' smart crop
   * @param compassCentre      VipsCompassDirection "centre"
   * @param compassNorth       VipsCompassDirection "north"
   * @param compassSouth       VipsCompassDirection "south"
   * @param compassEast        VipsCompassDirection "east"
   * @param compassWest        VipsCompassDirection "west"
   * @param extendBackground   VipsExtend "background"
   * @param angleD90           VipsAngle "d90" (clockwise)
   * @param angleD180          VipsAngle "d180"
   * @param angleD270          VipsAngle "d270"
   * @param directionHorizontal VipsDirection "horizontal": mirror left-right
   * @param directionVertical  VipsDirection "vertical": mirror top-bottom
   * @param interpretationSrgb VipsInterpretation "srgb"
   * @param interpretationBw   VipsInterpretation "b-w"
   * @param formatUchar        VipsBandFormat "uchar"
   * @param heifAv1            VipsForeignHeifCompression "av1", or -1 when absent
   * @param interpretationCmyk VipsInterpretation "cmyk"
   * @param failOnWarning      VipsFailOn "warning": any decoder warning is an error (a JPEG whose
   *                           scan ends before its frame does is only a warning to libjpeg)
   */
  public record Enums(int accessSequential, int failOnTruncated, int sizeBoth, int sizeDown,
                      int sizeForce, int interestingNone, int interestingCentre,
                      int interestingLow, int interestingHigh, int interestingAttention,
                      int compassCentre, int compassNorth, int compassSouth, int compassEast,
                      int compassWest, int extendBackground, int angleD90, int angleD180,
                      int angleD270, int directionHorizontal, int directionVertical,
                      int interpretationSrgb, int interpretationBw, int formatUchar, int heifAv1,
                      int interpretationCmyk, int failOnWarning) {
  }

  private static final class Holder {
    static final Object LOADED = loadOnce();

    private static Object loadOnce() {
      try {
        String library = System.getProperty(LIBRARY_PROPERTY, LIBRARY);
        return new Vips(SymbolLookup.libraryLookup(library, Arena.global()));
      } catch (RuntimeException | LinkageError e) {
        return e;
      }
    }
  }

  /**
   * The process's binding, made on first use: dlopen, symbol lookup, {@code vips_init}, enum
   * resolution.
   *
   * @throws UnsupportedOperationException naming the reason when libvips cannot be used here
   */
  public static Vips load() {
    Object loaded = Holder.LOADED;
    if (loaded instanceof Vips vips) {
      return vips;
    }
    Throwable cause = (Throwable) loaded;
    throw new UnsupportedOperationException(System.getProperty(LIBRARY_PROPERTY, LIBRARY)
        + " cannot be used: " + cause.getMessage(), cause);
  }

  private Vips(SymbolLookup lib) {
    this.lookup = lib;
    Arena global = Arena.global();
    MethodHandle init = fn(lib, "vips_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    MethodHandle versionString = fn(lib, "vips_version_string", FunctionDescriptor.of(ADDRESS));
    MethodHandle versionPart = fn(lib, "vips_version", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    try {
      int major = (int) versionPart.invokeExact(0);
      int minor = (int) versionPart.invokeExact(1);
      if (major < MIN_VERSION[0] || (major == MIN_VERSION[0] && minor < MIN_VERSION[1])) {
        throw new UnsupportedOperationException("libvips " + major + "." + minor
            + " is too old; WIMG needs " + MIN_VERSION[0] + "." + MIN_VERSION[1] + " or newer");
      }
      if ((int) init.invokeExact(global.allocateFrom("wimg")) != 0) {
        throw new UnsupportedOperationException("vips_init failed");
      }
      this.version = ((MemorySegment) versionString.invokeExact()).reinterpret(64).getString(0);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }

    sAccess = global.allocateFrom("access");
    sFailOn = global.allocateFrom("fail_on");
    sHeight = global.allocateFrom("height");
    sSize = global.allocateFrom("size");
    sCrop = global.allocateFrom("crop");
    sNoRotate = global.allocateFrom("no_rotate");
    sExportProfile = global.allocateFrom("export_profile");
    sSrgb = global.allocateFrom("srgb");
    sExtend = global.allocateFrom("extend");
    sBackground = global.allocateFrom("background");
    sQ = global.allocateFrom("Q");
    sInterlace = global.allocateFrom("interlace");
    sStrip = global.allocateFrom("strip");
    sCompression = global.allocateFrom("compression");
    sEffort = global.allocateFrom("effort");
    sEmpty = global.allocateFrom("");
    sOptionString = global.allocateFrom("option_string");
    sShrink = global.allocateFrom("shrink");
    sFailOnTruncated = global.allocateFrom("[fail_on=truncated]");
    sFailOnWarning = global.allocateFrom("[fail_on=warning]");

    errorBufferCopy = fn(lib, "vips_error_buffer_copy", FunctionDescriptor.of(ADDRESS));
    errorClear = fn(lib, "vips_error_clear", FunctionDescriptor.ofVoid());
    gFree = fn(lib, "g_free", FunctionDescriptor.ofVoid(ADDRESS));
    gObjectUnref = fn(lib, "g_object_unref", FunctionDescriptor.ofVoid(ADDRESS));
    concurrencySet = fn(lib, "vips_concurrency_set", FunctionDescriptor.ofVoid(JAVA_INT));
    cacheSetMax = fn(lib, "vips_cache_set_max", FunctionDescriptor.ofVoid(JAVA_INT));
    cacheSetMaxMem = fn(lib, "vips_cache_set_max_mem", FunctionDescriptor.ofVoid(SIZE_T));
    cacheSetMaxFiles = fn(lib, "vips_cache_set_max_files", FunctionDescriptor.ofVoid(JAVA_INT));
    leakSet = fn(lib, "vips_leak_set", FunctionDescriptor.ofVoid(JAVA_INT));
    // void *vips_object_map(VipsSListMap2Fn fn, void *a, void *b)
    objectMap = fn(lib, "vips_object_map",
        FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    trackedGetMem = fn(lib, "vips_tracked_get_mem", FunctionDescriptor.of(SIZE_T));
    trackedGetAllocs = fn(lib, "vips_tracked_get_allocs", FunctionDescriptor.of(JAVA_INT));
    trackedGetMemHighwater = fn(lib, "vips_tracked_get_mem_highwater", FunctionDescriptor.of(SIZE_T));
    // gulong g_signal_connect_data(gpointer instance, const gchar *detailed_signal,
    //     GCallback c_handler, gpointer data, GClosureNotify destroy_data, GConnectFlags flags)
    signalConnectData = fn(lib, "g_signal_connect_data", FunctionDescriptor.of(JAVA_LONG,
        ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
    signalHandlerDisconnect = fn(lib, "g_signal_handler_disconnect",
        FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG));
    imageSetProgress = fn(lib, "vips_image_set_progress",
        FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT));
    imageSetKill = fn(lib, "vips_image_set_kill", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT));
    sEval = global.allocateFrom("eval");
    try {
      evalStub = LINKER.upcallStub(java.lang.invoke.MethodHandles.lookup().findVirtual(Vips.class,
              "onEval", java.lang.invoke.MethodType.methodType(void.class, MemorySegment.class,
                  MemorySegment.class, MemorySegment.class)).bindTo(this),
          FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS), global);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
    foreignFindLoadBuffer = fn(lib, "vips_foreign_find_load_buffer",
        FunctionDescriptor.of(ADDRESS, ADDRESS, SIZE_T));
    // VipsImage *vips_image_new_from_buffer(const void *buf, size_t len, const char *options,
    //     "access", int, "fail_on", int, NULL)
    imageNewFromBuffer = fn(lib, "vips_image_new_from_buffer",
        FunctionDescriptor.of(ADDRESS, ADDRESS, SIZE_T, ADDRESS,
            ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), 3);
    // VipsImage *vips_image_new_from_buffer(const void *buf, size_t len, const char *options,
    //     "access", int, "fail_on", int, "shrink", int, NULL): JPEG only
    imageNewFromBufferShrunk = fn(lib, "vips_image_new_from_buffer",
        FunctionDescriptor.of(ADDRESS, ADDRESS, SIZE_T, ADDRESS,
            ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), 3);
    // int vips_thumbnail_buffer(void *buf, size_t len, VipsImage **out, int width, "height", int,
    //     "size", int, "crop", int, "no_rotate", int, "export_profile", char*,
    //     "option_string", char*, NULL)
    thumbnailBuffer = fn(lib, "vips_thumbnail_buffer",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, SIZE_T, ADDRESS, JAVA_INT,
            ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT,
            ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS), 4);
    // int vips_thumbnail_image(VipsImage *in, VipsImage **out, int width, "height", int,
    //     "size", int, "crop", int, "no_rotate", int, "export_profile", char*, NULL)
    thumbnailImage = fn(lib, "vips_thumbnail_image",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT,
            ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT,
            ADDRESS, ADDRESS, ADDRESS), 3);
    // int vips_crop(VipsImage *in, VipsImage **out, int left, int top, int width, int height, NULL)
    crop = fn(lib, "vips_crop", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
        JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), 6);
    // int vips_rot(VipsImage *in, VipsImage **out, VipsAngle angle, NULL)
    rot = fn(lib, "vips_rot", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS), 3);
    // int vips_flip(VipsImage *in, VipsImage **out, VipsDirection direction, NULL)
    flip = fn(lib, "vips_flip", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS), 3);
    // VipsImage *vips_image_copy_memory(VipsImage *image)
    copyMemory = fn(lib, "vips_image_copy_memory", FunctionDescriptor.of(ADDRESS, ADDRESS));
    // int vips_colourspace(VipsImage *in, VipsImage **out, VipsInterpretation space, NULL)
    colourspace = fn(lib, "vips_colourspace",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS), 3);
    // int vips_gaussblur(VipsImage *in, VipsImage **out, double sigma, NULL)
    gaussblur = fn(lib, "vips_gaussblur",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_DOUBLE, ADDRESS), 3);
    // int vips_gravity(VipsImage *in, VipsImage **out, VipsCompassDirection direction, int width,
    //     int height, "extend", int, "background", VipsArrayDouble*, NULL)
    gravity = fn(lib, "vips_gravity", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
        JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS), 5);
    // int vips_flatten(VipsImage *in, VipsImage **out, "background", VipsArrayDouble*, NULL)
    flatten = fn(lib, "vips_flatten",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS), 2);
    // int vips_addalpha(VipsImage *in, VipsImage **out, NULL)
    addalpha = fn(lib, "vips_addalpha", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), 2);
    // int vips_jpegsave_buffer(VipsImage *in, void **buf, size_t *len, "Q", int,
    //     "interlace", int, "strip", int, NULL)
    jpegsaveBuffer = fn(lib, "vips_jpegsave_buffer", FunctionDescriptor.of(JAVA_INT,
        ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT,
        ADDRESS), 3);
    // int vips_pngsave_buffer(VipsImage *in, void **buf, size_t *len, "interlace", int,
    //     "strip", int, NULL)
    pngsaveBuffer = fn(lib, "vips_pngsave_buffer", FunctionDescriptor.of(JAVA_INT,
        ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), 3);
    // int vips_webpsave_buffer(VipsImage *in, void **buf, size_t *len, "Q", int, "strip", int, NULL)
    webpsaveBuffer = fn(lib, "vips_webpsave_buffer", FunctionDescriptor.of(JAVA_INT,
        ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), 3);
    // int vips_heifsave_buffer(VipsImage *in, void **buf, size_t *len, "Q", int, "strip", int,
    //     "compression", int, "effort", int, NULL)
    heifsaveBuffer = fn(lib, "vips_heifsave_buffer", FunctionDescriptor.of(JAVA_INT,
        ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT,
        ADDRESS, JAVA_INT, ADDRESS), 3);
    // VipsArrayDouble *vips_array_double_new(const double *array, int n)
    arrayDoubleNew = fn(lib, "vips_array_double_new",
        FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
    // void vips_area_unref(VipsArea *area)
    areaUnref = fn(lib, "vips_area_unref", FunctionDescriptor.ofVoid(ADDRESS));
    getWidth = fn(lib, "vips_image_get_width", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    getHeight = fn(lib, "vips_image_get_height", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    getBands = fn(lib, "vips_image_get_bands", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    getFormat = fn(lib, "vips_image_get_format", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    getInterpretation = fn(lib, "vips_image_get_interpretation",
        FunctionDescriptor.of(JAVA_INT, ADDRESS));
    getNPages = fn(lib, "vips_image_get_n_pages", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    getOrientation = fn(lib, "vips_image_get_orientation", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    hasAlpha = fn(lib, "vips_image_hasalpha", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // guint64 vips_format_sizeof(VipsBandFormat format)
    formatSizeof = fn(lib, "vips_format_sizeof", FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
    // GType vips_image_get_typeof(const VipsImage *image, const char *name)
    getTypeof = fn(lib, "vips_image_get_typeof", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS));
    sIccProfileData = global.allocateFrom("icc-profile-data");
    sInterlaced = global.allocateFrom("interlaced");

    enums = resolveEnums(lib, global);
    heifSave = enums.heifAv1() >= 0 && hasSaver(lib, global, "heifsave_buffer");
    routeWarningsToLogger(lib, global);
    MethodHandle blockUntrusted = fn(lib, "vips_block_untrusted_set",
        FunctionDescriptor.ofVoid(JAVA_INT));
    try {
      // Loaders libvips marks untrusted (ImageMagick, and others not fuzzed for hostile input)
      // never run on uploaded bytes.
      blockUntrusted.invokeExact(1);
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /** GLib log levels routed to the logger: warning, message, info, debug (GLogLevelFlags). */
  private static final int G_LOG_LEVELS_ROUTED = (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7);
  /** GLib's G_LOG_LEVEL_WARNING. */
  private static final int G_LOG_LEVEL_WARNING = 1 << 4;
  private static final org.slf4j.Logger NATIVE_LOG = org.slf4j.LoggerFactory.getLogger("libvips");

  /**
   * Sends libvips' GLib log lines (domain "VIPS") to the "libvips" logger instead of stderr:
   * warnings such as "error in tile" repeat what the failed call's 422 already says, so they are
   * logged at debug level. The handler is an upcall that may run on libvips' worker threads; it
   * never throws.
   */
  private static void routeWarningsToLogger(SymbolLookup lib, Arena global) {
    try {
      java.lang.invoke.MethodHandle target = java.lang.invoke.MethodHandles.lookup().findStatic(
          Vips.class, "onLog", java.lang.invoke.MethodType.methodType(void.class,
              MemorySegment.class, int.class, MemorySegment.class, MemorySegment.class));
      MemorySegment stub = LINKER.upcallStub(target,
          FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, ADDRESS, ADDRESS), global);
      MethodHandle setHandler = fn(lib, "g_log_set_handler",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
      int id = (int) setHandler.invokeExact(global.allocateFrom("VIPS"), G_LOG_LEVELS_ROUTED, stub,
          MemorySegment.NULL);
      if (id == 0) {
        NATIVE_LOG.warn("g_log_set_handler refused; libvips warnings go to stderr");
      }
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  @SuppressWarnings("unused") // called from C through the upcall stub
  private static void onLog(MemorySegment domain, int level, MemorySegment message,
                            MemorySegment userData) {
    try {
      if (NATIVE_LOG.isDebugEnabled() && !message.equals(MemorySegment.NULL)) {
        String text = message.reinterpret(MAX_ERROR_LENGTH * 4L).getString(0);
        NATIVE_LOG.debug("{}{}", (level & G_LOG_LEVEL_WARNING) != 0 ? "warning: " : "", text);
      }
    } catch (Throwable ignored) {
      // An exception must not unwind into C; a lost log line is the lesser harm.
    }
  }

  private static MethodHandle fn(SymbolLookup lib, String name, FunctionDescriptor fd) {
    return LINKER.downcallHandle(symbol(lib, name), fd);
  }

  private static MethodHandle fn(SymbolLookup lib, String name, FunctionDescriptor fd,
                                 int firstVariadic) {
    return LINKER.downcallHandle(symbol(lib, name), fd,
        Linker.Option.firstVariadicArg(firstVariadic));
  }

  private static MemorySegment symbol(SymbolLookup lib, String name) {
    return lib.find(name).orElseThrow(
        () -> new UnsupportedOperationException(LIBRARY + " has no symbol " + name));
  }

  private static Enums resolveEnums(SymbolLookup lib, Arena global) {
    MethodHandle fromNick = fn(lib, "vips_enum_from_nick",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
    MemorySegment domain = global.allocateFrom("wimg");
    java.util.function.BiFunction<String, String, Integer> value = (typeFunction, nick) -> {
      try {
        long gtype = (long) fn(lib, typeFunction, FunctionDescriptor.of(JAVA_LONG)).invokeExact();
        int v = (int) fromNick.invokeExact(domain, gtype, global.allocateFrom(nick));
        if (v < 0) {
          throw new UnsupportedOperationException(LIBRARY + " has no value " + nick + " in "
              + typeFunction);
        }
        return v;
      } catch (RuntimeException | Error e) {
        throw e;
      } catch (Throwable t) {
        throw new IllegalStateException(t);
      }
    };
    int av1;
    try {
      av1 = value.apply("vips_foreign_heif_compression_get_type", "av1");
    } catch (UnsupportedOperationException e) {
      av1 = -1;
    }
    Enums enums = new Enums(
        value.apply("vips_access_get_type", "sequential"),
        value.apply("vips_fail_on_get_type", "truncated"),
        value.apply("vips_size_get_type", "both"),
        value.apply("vips_size_get_type", "down"),
        value.apply("vips_size_get_type", "force"),
        value.apply("vips_interesting_get_type", "none"),
        value.apply("vips_interesting_get_type", "centre"),
        value.apply("vips_interesting_get_type", "low"),
        value.apply("vips_interesting_get_type", "high"),
        value.apply("vips_interesting_get_type", "attention"),
        value.apply("vips_compass_direction_get_type", "centre"),
        value.apply("vips_compass_direction_get_type", "north"),
        value.apply("vips_compass_direction_get_type", "south"),
        value.apply("vips_compass_direction_get_type", "east"),
        value.apply("vips_compass_direction_get_type", "west"),
        value.apply("vips_extend_get_type", "background"),
        value.apply("vips_angle_get_type", "d90"),
        value.apply("vips_angle_get_type", "d180"),
        value.apply("vips_angle_get_type", "d270"),
        value.apply("vips_direction_get_type", "horizontal"),
        value.apply("vips_direction_get_type", "vertical"),
        value.apply("vips_interpretation_get_type", "srgb"),
        value.apply("vips_interpretation_get_type", "b-w"),
        value.apply("vips_band_format_get_type", "uchar"),
        av1,
        value.apply("vips_interpretation_get_type", "cmyk"),
        value.apply("vips_fail_on_get_type", "warning"));
    return enums;
  }

  /**
   * True when libvips has an operation of that nickname, such as {@code heifload_buffer}
   * (a libvips build may leave out a format).
   */
  public boolean hasOperation(String nickname) {
    try (Arena arena = Arena.ofConfined()) {
      return hasSaver(lookup, arena, nickname);
    }
  }

  /** True when libvips has an operation of that nickname. */
  private static boolean hasSaver(SymbolLookup lib, Arena global, String nickname) {
    MethodHandle typeFind = fn(lib, "vips_type_find",
        FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS));
    try {
      long type = (long) typeFind.invokeExact(global.allocateFrom("VipsOperation"),
          global.allocateFrom(nickname));
      return type != 0;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /** libvips' version, for example {@code 8.14.1}. */
  public String version() {
    return version;
  }

  /** The enum values resolved from this libvips. */
  public Enums enums() {
    return enums;
  }

  /** Whether AVIF (HEIF with AV1) can be written. */
  public boolean canSaveAvif() {
    return heifSave;
  }

  /** The {@code "srgb"} string, for {@code export_profile}. */
  MemorySegment srgb() {
    return sSrgb;
  }

  /** The empty option string. */
  MemorySegment emptyString() {
    return sEmpty;
  }

  // ---- errors and memory ----

  /**
   * {@code char *vips_error_buffer_copy(void)}: takes and clears the process-wide error text.
   * Concurrent failures share one buffer, so a message may carry another call's text too.
   */
  public String takeError() {
    try {
      MemorySegment text = (MemorySegment) errorBufferCopy.invokeExact();
      if (text.equals(MemorySegment.NULL)) {
        return "";
      }
      String message = text.reinterpret(Integer.MAX_VALUE).getString(0);
      gFree.invokeExact(text);
      message = message.strip().replaceAll("\\s*\\n\\s*", "; ");
      return message.length() > MAX_ERROR_LENGTH ? message.substring(0, MAX_ERROR_LENGTH) + "..." : message;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code void vips_error_clear(void)}. */
  public void errorClear() {
    try {
      errorClear.invokeExact();
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code void g_free(gpointer mem)}. */
  public void gFree(MemorySegment mem) {
    try {
      gFree.invokeExact(mem);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code void g_object_unref(gpointer object)}. */
  public void gObjectUnref(MemorySegment object) {
    try {
      gObjectUnref.invokeExact(object);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code void vips_concurrency_set(int concurrency)}: worker threads per pipeline. */
  public void concurrencySet(int threads) {
    try {
      concurrencySet.invokeExact(threads);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code vips_cache_set_max(int)}, {@code vips_cache_set_max_mem(size_t)} and
   * {@code vips_cache_set_max_files(int)}: bounds libvips' operation cache.
   */
  public void cacheSet(int maxOperations, long maxBytes, int maxFiles) {
    try {
      cacheSetMax.invokeExact(maxOperations);
      cacheSetMaxMem.invokeExact(maxBytes);
      cacheSetMaxFiles.invokeExact(maxFiles);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code void vips_leak_set(gboolean leak)}: leak reporting at shutdown, for debugging. */
  public void leakSet(boolean leak) {
    try {
      leakSet.invokeExact(leak ? 1 : 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * Live libvips objects (images, operations, sources), counted with {@code vips_object_map}.
   * libvips keeps the set of live objects only while leak checking is on, so this is meaningful
   * for objects made after {@link #leakSet leakSet(true)}: a debugging and test aid, not for
   * production paths.
   */
  public int liveObjects() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment counter = arena.allocate(JAVA_INT);
      MemorySegment ignored = (MemorySegment) objectMap.invokeExact(countStub(), counter,
          MemorySegment.NULL);
      return counter.get(JAVA_INT, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private MemorySegment countStub() throws ReflectiveOperationException {
    synchronized (this) {
      if (countStub == null) {
        java.lang.invoke.MethodHandle target = java.lang.invoke.MethodHandles.lookup().findStatic(
            Vips.class, "countObject", java.lang.invoke.MethodType.methodType(MemorySegment.class,
                MemorySegment.class, MemorySegment.class, MemorySegment.class));
        countStub = LINKER.upcallStub(target,
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS), Arena.global());
      }
      return countStub;
    }
  }

  @SuppressWarnings("unused") // called from C through the upcall stub, on the calling thread
  private static MemorySegment countObject(MemorySegment object, MemorySegment counter,
                                           MemorySegment unused) {
    MemorySegment count = counter.reinterpret(JAVA_INT.byteSize());
    count.set(JAVA_INT, 0, count.get(JAVA_INT, 0) + 1);
    return MemorySegment.NULL;
  }

  /** {@code size_t vips_tracked_get_mem(void)}: bytes of pixel buffers libvips holds now. */
  public long trackedMemory() {
    try {
      return (long) trackedGetMem.invokeExact();
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code size_t vips_tracked_get_mem_highwater(void)}: most bytes held at once so far. */
  public long trackedMemoryHighWater() {
    try {
      return (long) trackedGetMemHighwater.invokeExact();
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  // ---- cost budget ----

  /**
   * A deadline for the evaluation of one image, in native memory so libvips' worker threads can
   * read it from the {@code eval} callback.
   *
   * <pre>
   * offset  size  type   what
   * 0       8     long   deadline, System.nanoTime() units
   * 8       8     long   1 once the callback has killed the evaluation, else 0
   * </pre>
   */
  public static final long DEADLINE_BYTES = 16;
  private static final long DEADLINE_AT = 0;
  private static final long KILLED_AT = 8;

  /**
   * Watches the evaluation of {@code image} (and of every image libvips derives from it to save
   * it): {@code vips_image_set_progress(image, TRUE)} and {@code g_signal_connect(image, "eval",
   * ...)}. On each progress report past {@code deadlineNanos} the image being computed is killed
   * ({@code vips_image_set_kill}), which makes the running sink fail with "killed for image".
   *
   * @param deadline {@link #DEADLINE_BYTES} of native memory that outlives the evaluation
   * @return the handler id, for {@link #unwatch}
   */
  public long watch(MemorySegment image, MemorySegment deadline, long deadlineNanos) {
    deadline.set(JAVA_LONG, DEADLINE_AT, deadlineNanos);
    deadline.set(JAVA_LONG, KILLED_AT, 0);
    try {
      imageSetProgress.invokeExact(image, 1);
      return (long) signalConnectData.invokeExact(image, sEval, evalStub, deadline,
          MemorySegment.NULL, 0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** Whether the callback of {@link #watch} killed the evaluation. */
  public static boolean killed(MemorySegment deadline) {
    return deadline.get(JAVA_LONG, KILLED_AT) != 0;
  }

  /** {@code g_signal_handler_disconnect(image, id)}. */
  public void unwatch(MemorySegment image, long handlerId) {
    try {
      signalHandlerDisconnect.invokeExact(image, handlerId);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * The {@code eval} handler: {@code void (*)(VipsImage *image, VipsProgress *progress,
   * gpointer data)}, called on libvips' worker threads. {@code progress->im} (its first field) is
   * the image being computed, whose kill flag the sink checks. Never throws into C.
   */
  @SuppressWarnings("unused") // called from C through the upcall stub
  private void onEval(MemorySegment image, MemorySegment progress, MemorySegment data) {
    try {
      MemorySegment deadline = data.reinterpret(DEADLINE_BYTES);
      if (System.nanoTime() - deadline.get(JAVA_LONG, DEADLINE_AT) > 0) {
        deadline.set(JAVA_LONG, KILLED_AT, 1);
        MemorySegment computed = progress.reinterpret(ADDRESS.byteSize()).get(ADDRESS, 0);
        imageSetKill.invokeExact(computed, 1);
        imageSetKill.invokeExact(image, 1);
      }
    } catch (Throwable ignored) {
      // An exception must not unwind into C; the evaluation then runs to its end.
    }
  }

  /** {@code int vips_tracked_get_allocs(void)}: pixel buffers libvips holds now. */
  public int trackedAllocations() {
    try {
      return (int) trackedGetAllocs.invokeExact();
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  // ---- loading ----

  /**
   * {@code const char *vips_foreign_find_load_buffer(const void *data, size_t size)}: the name of
   * the loader libvips would pick for these bytes (only their start is examined), or null when
   * none accepts them. Blocked loaders may still be named.
   */
  public String findLoader(MemorySegment data) {
    try {
      MemorySegment name = (MemorySegment) foreignFindLoadBuffer.invokeExact(data, data.byteSize());
      if (name.equals(MemorySegment.NULL)) {
        errorClear();
        return null;
      }
      return name.reinterpret(256).getString(0);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code vips_image_new_from_buffer(buf, len, "", "access", access, "fail_on", failOn, NULL)}:
   * reads the header only; pixels are decoded when an operation asks for them. The buffer must
   * stay valid until the image and everything made from it are unreferenced.
   *
   * @return the image, or {@link MemorySegment#NULL} on error
   */
  public MemorySegment imageNewFromBuffer(MemorySegment data, int access, int failOn) {
    try {
      return (MemorySegment) imageNewFromBuffer.invokeExact(data, data.byteSize(), sEmpty,
          sAccess, access, sFailOn, failOn, MemorySegment.NULL);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code vips_image_new_from_buffer(buf, len, "", "access", access, "fail_on", failOn,
   * "shrink", shrink, NULL)} for a JPEG: libjpeg decodes at 1/shrink of the size (DCT scaling,
   * shrink 1, 2, 4 or 8), which costs a fraction of a full decode.
   *
   * @return the image, or {@link MemorySegment#NULL} on error
   */
  public MemorySegment jpegNewFromBuffer(MemorySegment data, int access, int failOn, int shrink) {
    try {
      return (MemorySegment) imageNewFromBufferShrunk.invokeExact(data, data.byteSize(), sEmpty,
          sAccess, access, sFailOn, failOn, sShrink, shrink, MemorySegment.NULL);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code vips_thumbnail_buffer(buf, len, &out, width, "height", h, "size", size, "crop", crop,
   * "no_rotate", FALSE, "export_profile", srgb ? "srgb" : NULL, "option_string",
   * "[fail_on=truncated]", NULL)}: load with shrink-on-load, resize, apply the EXIF orientation and
   * crop; with {@code toSrgb}, convert from the source's profile (or libvips' CMYK default) to
   * sRGB. Without it the pixels keep their values: libvips 8.14 given an export profile imports
   * an untagged source with its own sRGB profile, and that round trip shifts colours (grey 30
   * becomes 15, blue 0,0,255 becomes 85,15,253), so it must only be asked for tagged or CMYK
   * sources. The loader fails on a truncated source, or with {@code failOnWarning} on any decoder
   * warning ({@code [fail_on=...]} in the loader's option string: libvips 8.14's own
   * {@code fail_on} option of thumbnail_buffer does not reach the loader). A truncated source is an error, not a picture
   * padded with grey: libvips 8.14's own {@code fail_on} option of thumbnail_buffer does not
   * reach the loader, so it is given in the loader's option string.
   */
  public int thumbnailBuffer(MemorySegment data, MemorySegment out, int width, int height,
                             int size, int interesting, boolean toSrgb,
                             boolean failOnWarning) {
    MemorySegment profile = toSrgb ? sSrgb : MemorySegment.NULL;
    MemorySegment loaderOptions = failOnWarning ? sFailOnWarning : sFailOnTruncated;
    try {
      return (int) thumbnailBuffer.invokeExact(data, data.byteSize(), out, width, sHeight, height,
          sSize, size, sCrop, interesting, sNoRotate, 0, sExportProfile, profile, sOptionString,
          loaderOptions, MemorySegment.NULL);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code vips_thumbnail_image(in, &out, width, "height", h, "size", size, "crop", crop,
   * "no_rotate", FALSE, "export_profile", srgb ? "srgb" : NULL, NULL)}: as
   * {@link #thumbnailBuffer} for an image already loaded (no shrink-on-load).
   */
  public int thumbnailImage(MemorySegment in, MemorySegment out, int width, int height, int size,
                            int interesting, boolean toSrgb) {
    MemorySegment profile = toSrgb ? sSrgb : MemorySegment.NULL;
    try {
      return (int) thumbnailImage.invokeExact(in, out, width, sHeight, height, sSize, size, sCrop,
          interesting, sNoRotate, 0, sExportProfile, profile, MemorySegment.NULL);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  // ---- operations ----

  /** {@code vips_crop(in, &out, left, top, width, height, NULL)}. */
  public int crop(MemorySegment in, MemorySegment out, int left, int top, int width, int height) {
    try {
      return (int) crop.invokeExact(in, out, left, top, width, height, MemorySegment.NULL);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code vips_rot(in, &out, angle, NULL)}. */
  public int rot(MemorySegment in, MemorySegment out, int angle) {
    try {
      return (int) rot.invokeExact(in, out, angle, MemorySegment.NULL);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code vips_image_copy_memory(image)}: computes {@code image} into memory and returns a new
   * reference to the copy (the caller owns it), or NULL with libvips' error set.
   */
  public MemorySegment copyMemory(MemorySegment image) {
    try {
      return (MemorySegment) copyMemory.invokeExact(image);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code vips_flip(in, &out, direction, NULL)}. */
  public int flip(MemorySegment in, MemorySegment out, int direction) {
    try {
      return (int) flip.invokeExact(in, out, direction, MemorySegment.NULL);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code vips_colourspace(in, &out, space, NULL)}. */
  public int colourspace(MemorySegment in, MemorySegment out, int space) {
    try {
      return (int) colourspace.invokeExact(in, out, space, MemorySegment.NULL);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code vips_gaussblur(in, &out, sigma, NULL)}. */
  public int gaussblur(MemorySegment in, MemorySegment out, double sigma) {
    try {
      return (int) gaussblur.invokeExact(in, out, sigma, MemorySegment.NULL);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code vips_gravity(in, &out, direction, width, height, "extend", VIPS_EXTEND_BACKGROUND,
   * "background", background, NULL)}.
   */
  public int gravity(MemorySegment in, MemorySegment out, int direction, int width, int height,
                     MemorySegment background) {
    try {
      return (int) gravity.invokeExact(in, out, direction, width, height, sExtend,
          enums.extendBackground(), sBackground, background, MemorySegment.NULL);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code vips_flatten(in, &out, "background", background, NULL)}. */
  public int flatten(MemorySegment in, MemorySegment out, MemorySegment background) {
    try {
      return (int) flatten.invokeExact(in, out, sBackground, background, MemorySegment.NULL);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code vips_addalpha(in, &out, NULL)}. */
  public int addalpha(MemorySegment in, MemorySegment out) {
    try {
      return (int) addalpha.invokeExact(in, out, MemorySegment.NULL);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code VipsArrayDouble *vips_array_double_new(const double *array, int n)}: a new array
   * holding a copy of the values; release with {@link #areaUnref}.
   */
  public MemorySegment arrayDoubleNew(MemorySegment values, int n) {
    try {
      return (MemorySegment) arrayDoubleNew.invokeExact(values, n);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code void vips_area_unref(VipsArea *area)}. */
  public void areaUnref(MemorySegment area) {
    try {
      areaUnref.invokeExact(area);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  // ---- saving ----

  /** {@code vips_jpegsave_buffer(in, &buf, &len, "Q", q, "interlace", i, "strip", s, NULL)}. */
  public int jpegsaveBuffer(MemorySegment in, MemorySegment buf, MemorySegment len, int quality,
                            boolean interlace, boolean strip) {
    try {
      return (int) jpegsaveBuffer.invokeExact(in, buf, len, sQ, quality, sInterlace,
          interlace ? 1 : 0, sStrip, strip ? 1 : 0, MemorySegment.NULL);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code vips_pngsave_buffer(in, &buf, &len, "interlace", i, "strip", s, NULL)}. */
  public int pngsaveBuffer(MemorySegment in, MemorySegment buf, MemorySegment len,
                           boolean interlace, boolean strip) {
    try {
      return (int) pngsaveBuffer.invokeExact(in, buf, len, sInterlace, interlace ? 1 : 0, sStrip,
          strip ? 1 : 0, MemorySegment.NULL);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code vips_webpsave_buffer(in, &buf, &len, "Q", q, "strip", s, NULL)}. */
  public int webpsaveBuffer(MemorySegment in, MemorySegment buf, MemorySegment len, int quality,
                            boolean strip) {
    try {
      return (int) webpsaveBuffer.invokeExact(in, buf, len, sQ, quality, sStrip, strip ? 1 : 0,
          MemorySegment.NULL);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code vips_heifsave_buffer(in, &buf, &len, "Q", q, "strip", s, "compression", AV1,
   * "effort", effort, NULL)}: AVIF.
   */
  public int avifsaveBuffer(MemorySegment in, MemorySegment buf, MemorySegment len, int quality,
                            boolean strip, int effort) {
    try {
      return (int) heifsaveBuffer.invokeExact(in, buf, len, sQ, quality, sStrip, strip ? 1 : 0,
          sCompression, enums.heifAv1(), sEffort, effort, MemorySegment.NULL);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  // ---- image fields ----

  /** {@code int vips_image_get_width(const VipsImage *image)}. */
  public int width(MemorySegment image) {
    try {
      return (int) getWidth.invokeExact(image);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code int vips_image_get_height(const VipsImage *image)}. */
  public int height(MemorySegment image) {
    try {
      return (int) getHeight.invokeExact(image);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code int vips_image_get_bands(const VipsImage *image)}. */
  public int bands(MemorySegment image) {
    try {
      return (int) getBands.invokeExact(image);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code VipsBandFormat vips_image_get_format(const VipsImage *image)}. */
  public int bandFormat(MemorySegment image) {
    try {
      return (int) getFormat.invokeExact(image);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code VipsInterpretation vips_image_get_interpretation(const VipsImage *image)}. */
  public int interpretation(MemorySegment image) {
    try {
      return (int) getInterpretation.invokeExact(image);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code int vips_image_get_n_pages(VipsImage *image)}: pages in the file, 1 if unknown. */
  public int pages(MemorySegment image) {
    try {
      return (int) getNPages.invokeExact(image);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code int vips_image_get_orientation(VipsImage *image)}: EXIF orientation, 1 if none. */
  public int orientation(MemorySegment image) {
    try {
      return (int) getOrientation.invokeExact(image);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code guint64 vips_format_sizeof(VipsBandFormat format)}: bytes of one band of a pixel. */
  public int bytesPerBand(int bandFormat) {
    try {
      return (int) (long) formatSizeof.invokeExact(bandFormat);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** Whether the image carries an ICC profile ({@code vips_image_get_typeof(image, "icc-profile-data")}). */
  public boolean hasIccProfile(MemorySegment image) {
    try {
      return (long) getTypeof.invokeExact(image, sIccProfileData) != 0;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * Whether the loader found the source interlaced ({@code vips_image_get_typeof(image,
   * "interlaced")}): a progressive JPEG or an Adam7 PNG, which libvips must decode whole instead
   * of line by line.
   */
  public boolean interlaced(MemorySegment image) {
    try {
      return (long) getTypeof.invokeExact(image, sInterlaced) != 0;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code gboolean vips_image_hasalpha(VipsImage *image)}. */
  public boolean hasAlpha(MemorySegment image) {
    try {
      return (int) hasAlpha.invokeExact(image) != 0;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      throw r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new IllegalStateException("unexpected checked exception from a downcall", t);
  }
}
