/**
 * The tracker: the soft-state map of the cluster built from storage nodes' heartbeats
 * ({@link dev.wimg.server.internal.tracker.ClusterMap}), placement of uploads
 * ({@link dev.wimg.server.internal.tracker.Placement}), and its HTTP endpoints
 * ({@link dev.wimg.server.internal.tracker.TrackerHandler}): heartbeats in, {@code /cluster},
 * uploads passed on to a storage node, and reads redirected to one. No per-file state.
 */
package dev.wimg.server.internal.tracker;
