package dev.wimg.imaging;

/** Run in a child JVM by {@link ImageEnginesTest}: prints the engine {@code detect} picks. */
public final class DetectEngineMain {

  private DetectEngineMain() {
  }

  public static void main(String[] args) {
    ImageEngine engine = ImageEngines.detect(Limits.defaults());
    System.out.println("engine=" + engine.name());
    TransformResult r = engine.transform(Pictures.heap("painting.jpg"),
        TransformSpec.parse(java.util.Map.of("w", java.util.List.of("64")), Presets.none(),
            Limits.defaults()), "image/webp");
    System.out.println("output=" + r.format() + " " + r.width() + "x" + r.height());
  }
}
