/**
 * Header values, parsed and formatted: byte ranges, entity-tag matching, HTTP dates (and the
 * cached {@code Date} header), media types guessed from file names, {@code Content-Disposition}.
 * Pure functions of strings and numbers, tested alone.
 *
 * <p>May use: nothing of the server; only the JDK and Netty's codec helpers.
 */
package dev.wimg.server.internal.headers;
