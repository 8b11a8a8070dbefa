/**
 * A storage node's side of the cluster: its identity kept in its data folder
 * ({@link dev.wimg.server.internal.cluster.NodeIdentity}) and its heartbeats to every tracker
 * ({@link dev.wimg.server.internal.cluster.Heartbeats}), whose answers open and close its uploads.
 */
package dev.wimg.server.internal.cluster;
