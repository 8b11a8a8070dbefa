package dev.wimg.imaging.internal;

import dev.wimg.imaging.AcceptHeader;
import dev.wimg.imaging.ImageFormat;
import dev.wimg.imaging.ImageRequestException;
import dev.wimg.imaging.TransformSpec.OutputFormat;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Decides the output format of a transform, the same way for every engine.
 *
 * <ul>
 *   <li>An explicit {@code format=} is used when the engine writes it, else 501.
 *   <li>{@code format=auto}: {@link AcceptHeader#autoFormat} (WebP when {@code Accept} lists
 *       {@code image/webp}, else AVIF when it lists {@code image/avif}, each only if the engine
 *       writes it), else as for the source. A wildcard such as {@code image/*} does not count:
 *       only an explicit listing is trusted.
 *   <li>Not given: the source's format when it is JPEG, PNG, WebP or AVIF and the engine writes
 *       it; GIF becomes PNG (lossless, keeps transparency); anything else becomes PNG when it has
 *       alpha and JPEG otherwise.
 * </ul>
 */
public final class OutputFormatChoice {

  /** Formats that a source keeps as its output format when the engine writes them. */
  private static final Set<ImageFormat> KEPT = Set.of(ImageFormat.JPEG, ImageFormat.PNG,
      ImageFormat.WEBP, ImageFormat.AVIF);

  private OutputFormatChoice() {
  }

  /**
   * @param requested  the spec's format
   * @param source     the source's format
   * @param hasAlpha   whether the source has alpha
   * @param accept     the request's Accept header, may be null
   * @param writable   formats the engine writes; must hold JPEG and PNG
   * @param engineName for the 501 message
   * @throws ImageRequestException 501 when an explicit format is not writable
   */
  public static ImageFormat choose(OutputFormat requested, ImageFormat source, boolean hasAlpha,
                                   String accept, Set<ImageFormat> writable, String engineName) {
    ImageFormat explicit = switch (requested) {
      case JPEG -> ImageFormat.JPEG;
      case PNG -> ImageFormat.PNG;
      case WEBP -> ImageFormat.WEBP;
      case AVIF -> ImageFormat.AVIF;
      case AUTO, SOURCE -> null;
    };
    if (explicit != null) {
      if (!writable.contains(explicit)) {
        throw new ImageRequestException(ImageRequestException.NOT_IMPLEMENTED, "the " + engineName
            + " engine cannot write " + explicit.token() + "; it writes "
            + writable.stream().map(ImageFormat::token).sorted().collect(Collectors.joining(", ")));
      }
      return explicit;
    }
    if (requested == OutputFormat.AUTO) {
      ImageFormat negotiated = AcceptHeader.autoFormat(accept, writable::contains);
      if (negotiated != null) {
        return negotiated;
      }
    }
    if (KEPT.contains(source) && writable.contains(source)) {
      return source;
    }
    if (source == ImageFormat.GIF) {
      return ImageFormat.PNG;
    }
    return hasAlpha ? ImageFormat.PNG : ImageFormat.JPEG;
  }
}
