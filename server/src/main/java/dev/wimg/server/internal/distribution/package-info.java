/**
 * Peer-assisted distribution, a storage node's side (docs/DISTRIBUTION.md): the distribution
 * tasks it accepted, kept on its disk and run to the end; the pieces it fetches from its peers and
 * from the file's own group, each checked by its SHA-256; and the pinned copies they make, kept in
 * a store of their own and served as the original is.
 */
package dev.wimg.server.internal.distribution;
