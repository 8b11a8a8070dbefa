package dev.wimg.imaging;

import java.nio.ByteBuffer;
import java.util.Set;

/**
 * Decodes, transforms and encodes pictures: bytes in, bytes out. Implementations are thread-safe
 * and hold no per-request state; the caller bounds how many transforms run at once.
 *
 * <p>Errors are {@link ImageRequestException}s with the status to answer:
 * 415 when the source is not a picture, 422 when it breaks {@link Limits#maxSourcePixels()}
 * (checked from the header, before any pixel is decoded) or cannot be decoded, 400 for a crop
 * outside the picture, 501 for a format or operation this engine cannot do.
 */
public interface ImageEngine {

  /**
   * Applies a transform.
   *
   * @param source       the stored picture, from its position to its limit; not modified, and
   *                     not retained after the call. A direct (or mapped) buffer is read in
   *                     place; a heap buffer may be copied to native memory once
   * @param spec         what to do; {@link TransformSpec#isIdentity()} still re-encodes
   * @param acceptHeader the request's {@code Accept} header, for {@code format=auto}; may be null
   * @return the encoded output
   * @throws ImageRequestException as described in the class Javadoc
   */
  TransformResult transform(ByteBuffer source, TransformSpec spec, String acceptHeader);

  /**
   * Reads a picture's header without decoding its pixels. The pixel limit is not applied: a
   * header is cheap to read whatever it claims.
   *
   * @throws ImageRequestException 415 when not a picture, 422 when the header cannot be read,
   *                               501 when this engine cannot read the format
   */
  ImageInfo probe(ByteBuffer source);

  /** A short name for logs and {@code /status}, with the library version where there is one. */
  String name();

  /** The output formats this engine can write, as {@link ImageFormat#token()}s. */
  Set<String> outputFormats();

  /** Native memory the engine holds now and held at most; {@link NativeMemory#NONE} if none. */
  default NativeMemory nativeMemory() {
    return NativeMemory.NONE;
  }
}
