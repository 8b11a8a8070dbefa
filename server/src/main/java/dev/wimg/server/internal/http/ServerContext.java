package dev.wimg.server.internal.http;

import dev.wimg.server.internal.replication.Replication;
import dev.wimg.server.ServerConfig;
import dev.wimg.server.internal.admin.ServerMetrics;
import dev.wimg.server.internal.headers.HttpDateCache;
import dev.wimg.server.internal.transform.TransformService;
import dev.wimg.server.internal.upload.TusUploads;
import dev.wimg.server.internal.upload.UploadBudget;
import dev.wimg.storage.Store;
import java.util.concurrent.Executor;

/**
 * What the handlers of every connection of one server share. Immutable; its parts are thread-safe.
 *
 * @param store       the storage engine
 * @param config      the server's configuration
 * @param tuning      the HTTP layer's limits
 * @param metrics     meters
 * @param json        JSON bodies
 * @param errors      JSON error responses
 * @param uploads     the in-flight upload memory budget
 * @param blocking    the bounded pool for work that may block on the disk; it throws
 *                    {@link java.util.concurrent.RejectedExecutionException} when saturated
 * @param writeAuth   the write key check
 * @param dates       the Date header
 * @param inFlight    requests in progress
 * @param version     the WIMG version
 * @param transport   the Netty transport in use: {@code epoll} or {@code nio}
 * @param startNanos  {@link System#nanoTime()} at start, for the uptime
 * @param transforms  picture transforms and derived pictures
 * @param membership  whether uploads are taken now (a node of a cluster needs a tracker's yes)
 * @param replication a cluster member's replication to its group, or null for the all-in-one
 *                    server
 * @param resumable   the resumable (tus) uploads in progress
 * @param chunks      where large files' chunks are written, read and deleted: {@link #store}, or
 *                    in a cluster of several groups spread over them
 * @param pieceUploads  the caps on what is sent for distribution pieces
 */
public record ServerContext(Store store, ServerConfig config, ServerTuning tuning,
                            ServerMetrics metrics, JsonBodies json, ErrorResponses errors,
                            UploadBudget uploads, Executor blocking, WriteAuth writeAuth,
                            HttpDateCache dates, InFlightRequests inFlight, String version,
                            String transport, long startNanos,
                            TransformService transforms, Membership membership,
                            Replication replication, TusUploads resumable,
                            dev.wimg.server.internal.large.ChunkStore chunks,
                            dev.wimg.server.internal.files.PieceUploads pieceUploads) {}
