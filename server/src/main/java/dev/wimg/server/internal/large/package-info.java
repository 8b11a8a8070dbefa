/**
 * Large files: a file above one chunk is stored as chunks (needles of their own) and a manifest
 * needle that lists them ({@link dev.wimg.server.internal.large.Manifest}, format in
 * docs/FORMAT.md), whose fid is the file's.
 */
package dev.wimg.server.internal.large;
