package dev.wimg.imaging;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Run in a child JVM by {@link HostileGeometryTest}: transforms pictures with the libvips engine
 * on request, so that a native abort kills this process and not the test run.
 *
 * <p>Protocol, one line each way; answer lines start with {@value #ANSWER}, other lines are log. Request: {@code <width> <height> <query>}; the source is a
 * black 1-bit PNG of that size, made here. Answer: {@code ok <format> <width>x<height>} with the
 * size the output decodes to (read back by the engine's own {@code probe}), or
 * {@code refused <status> <message>}, or {@code error <exception> <message>} for anything else.
 */
public final class TransformWorkerMain {

  /** Start of every protocol line: the logger writes to standard output too. */
  static final String ANSWER = "@ ";

  private TransformWorkerMain() {
  }

  public static void main(String[] args) throws Exception {
    ImageEngine engine = ImageEngines.detect(Limits.defaults());
    if (!engine.name().startsWith("libvips")) {
      throw new IllegalStateException("libvips is not loaded: " + engine.name());
    }
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    out.println(ANSWER + "ready " + engine.name());
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String lastSize = null;
    ByteBuffer source = null;
    for (String line; (line = in.readLine()) != null; ) {
      String[] parts = line.split(" ", 3);
      String size = parts[0] + "x" + parts[1];
      if (!size.equals(lastSize)) {
        source = null; // let a large previous source go before making the next
        int width = Integer.parseInt(parts[0]);
        int height = Integer.parseInt(parts[1]);
        // Over the pixel limit only the header is read: a header with no pixel data will do.
        source = (long) width * height > Limits.DEFAULT_MAX_SOURCE_PIXELS
            ? Pictures.pngHeaderOnly(width, height) : Pictures.pngBomb(width, height);
        lastSize = size;
      }
      out.println(ANSWER + answer(engine, source, parts.length > 2 ? parts[2] : ""));
    }
  }

  private static String answer(ImageEngine engine, ByteBuffer source, String query) {
    TransformResult result;
    try {
      TransformSpec spec = TransformSpec.parse(TransformSpecTest.query(query), Presets.none(), Limits.defaults());
      result = engine.transform(source.duplicate(), spec, null);
    } catch (ImageRequestException e) {
      return "refused " + e.status() + " " + e.getMessage().replace('\n', ' ');
    } catch (RuntimeException | Error e) {
      return "error " + e.getClass().getName() + " " + String.valueOf(e.getMessage()).replace('\n', ' ');
    }
    String claimed = result.format() + " " + result.width() + "x" + result.height();
    try {
      ImageInfo back = engine.probe(ByteBuffer.wrap(result.bytes()));
      return "ok " + claimed + " decodes as " + back.format() + " " + back.width() + "x"
          + back.height();
    } catch (RuntimeException e) {
      return "undecodable " + claimed + " (" + result.bytes().length + " bytes): " + e.getMessage();
    }
  }
}
