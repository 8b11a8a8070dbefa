/**
 * The file handlers: {@code GET} and {@code HEAD} of {@code /<fid>[/<name>]} (inline or on the
 * blocking pool, conditionals, ranges, zero-copy bodies) and {@code DELETE}, which deletes the
 * file's derived pictures with it.
 *
 * <p>May use: {@code http}, {@code headers}, and {@code transform}, to which a read with a
 * transform query is handed.
 */
package dev.wimg.server.internal.files;
