/**
 * What operators look at: {@code GET /status} (JSON health and store figures),
 * {@code GET /metrics} (Prometheus text) and the meters behind it
 * ({@link dev.wimg.server.internal.admin.ServerMetrics}), which the HTTP layer records into.
 *
 * <p>May use: {@code http}, and {@code transform} for the picture figures of {@code /status}.
 */
package dev.wimg.server.internal.admin;
