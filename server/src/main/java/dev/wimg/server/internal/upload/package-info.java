/**
 * {@code POST /files}: raw and {@code multipart/form-data} upload bodies received chunk by chunk
 * on the event loop, the per-request limit and the server-wide memory budget they are counted
 * against, and the store writes that answer them once durable.
 *
 * <p>May use: {@code http} and {@code headers}.
 */
package dev.wimg.server.internal.upload;
