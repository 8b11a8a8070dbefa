package dev.wimg.imaging;

/**
 * A transform that cannot be served, with the HTTP status the caller should answer and a message
 * that is safe to show to the client: it names the parameter or limit and the offending value,
 * never a path, a stack trace or native memory details.
 *
 * <p>Statuses used by this module:
 * <ul>
 *   <li>{@value #BAD_REQUEST}: the URL is wrong (unknown parameter, value out of range, a crop
 *       outside the picture).
 *   <li>{@value #UNSUPPORTED_MEDIA_TYPE}: the source is not a picture at all.
 *   <li>{@value #UNPROCESSABLE}: the source is a picture but breaks a limit (too many pixels) or
 *       its bytes cannot be decoded (truncated, corrupt).
 *   <li>{@value #NOT_IMPLEMENTED}: the request is valid but the active engine cannot do it (for
 *       example WebP output from the pure-Java engine).
 * </ul>
 */
public final class ImageRequestException extends RuntimeException {

  /** HTTP 400: the request's parameters are invalid. */
  public static final int BAD_REQUEST = 400;
  /** HTTP 415: the source is not an image. */
  public static final int UNSUPPORTED_MEDIA_TYPE = 415;
  /** HTTP 422: the source is an image that breaks a limit or cannot be decoded. */
  public static final int UNPROCESSABLE = 422;
  /** HTTP 501: a valid request that the active engine cannot serve. */
  public static final int NOT_IMPLEMENTED = 501;
  /** HTTP 503: the transform ran past its time budget and was stopped ({@link Limits#maxTransformMillis()}). */
  public static final int OVER_BUDGET = 503;

  private final int status;

  /**
   * @param status  one of the HTTP statuses listed in the class Javadoc
   * @param message what is wrong, naming the parameter or limit and the value
   */
  public ImageRequestException(int status, String message) {
    super(message);
    if (status != BAD_REQUEST && status != UNSUPPORTED_MEDIA_TYPE && status != UNPROCESSABLE
        && status != NOT_IMPLEMENTED && status != OVER_BUDGET) {
      throw new IllegalArgumentException("status must be 400, 415, 422, 501 or 503, got " + status);
    }
    this.status = status;
  }

  static ImageRequestException badRequest(String message) {
    return new ImageRequestException(BAD_REQUEST, message);
  }

  /** The HTTP status to answer with. */
  public int status() {
    return status;
  }
}
