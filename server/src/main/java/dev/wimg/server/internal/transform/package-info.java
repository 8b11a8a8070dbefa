/**
 * Picture transforms over HTTP: the handler of {@code /<fid>?<transform>}
 * ({@link dev.wimg.server.internal.transform.TransformHandler}), query syntax and signed URLs,
 * and {@link dev.wimg.server.internal.transform.TransformService}, which ties together the
 * results in memory ({@code RenditionCache}), the workers ({@code TransformPool}) and the derived
 * pictures on disk ({@code derived}).
 *
 * <p>May use: {@code http}, {@code headers} and {@code derived}; the engine itself is the
 * {@code imaging} module's.
 */
package dev.wimg.server.internal.transform;
