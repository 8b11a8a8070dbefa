/**
 * The HTTP plumbing every request goes through: the Netty pipeline of a connection
 * ({@link dev.wimg.server.internal.http.HttpPipeline}), its one-request-at-a-time state machine
 * with back-pressure, deadlines and lingering close
 * ({@link dev.wimg.server.internal.http.RequestDispatcher},
 * {@link dev.wimg.server.internal.http.ConnectionDeadline}), the single response of a request
 * ({@link dev.wimg.server.internal.http.Exchange}), the request target and file paths, JSON and
 * error bodies, the write key check, the limits ({@link dev.wimg.server.internal.http.ServerTuning})
 * and the transport.
 *
 * <p>May use: {@code headers}, and {@code admin} for the meters it records into. The handlers
 * ({@code files}, {@code upload}, {@code transform}, {@code admin}) build on this package; it
 * knows them only where it wires them: {@link dev.wimg.server.internal.http.Router} maps a
 * request to its handler and {@link dev.wimg.server.internal.http.ServerContext} holds the
 * services they share.
 */
package dev.wimg.server.internal.http;
