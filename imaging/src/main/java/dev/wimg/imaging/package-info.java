/**
 * Picture transforms as a pure engine: bytes in, bytes out.
 *
 * <p>{@link dev.wimg.imaging.TransformSpec} is the URL grammar, {@link dev.wimg.imaging.ImageEngine}
 * the engine contract and {@link dev.wimg.imaging.ImageEngines} picks libvips (bound with
 * {@code java.lang.foreign}) or the pure-Java fallback. Nothing here knows about storage, HTTP or
 * caching; errors carry the HTTP status the caller should answer with
 * ({@link dev.wimg.imaging.ImageRequestException}).
 */
package dev.wimg.imaging;
