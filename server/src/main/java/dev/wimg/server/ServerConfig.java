package dev.wimg.server;

import dev.wimg.storage.FsyncPolicy;
import dev.wimg.storage.StoreConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link WimgServer}.
 *
 * @param bind            address to listen on; loopback by default
 * @param port            TCP port; 0 picks a free one (see {@link WimgServer#port()})
 * @param store           the storage engine's settings (data folder, fsync, volume size)
 * @param maxUploadBytes  largest file, bytes, by any upload; larger gets 413 (a file held in memory
 *                        while it is uploaded, multipart or up to one chunk, is limited by the
 *                        upload memory too; a larger raw or resumable one is stored in chunks)
 * @param writeKey        bearer key required for POST and DELETE, or null; required (non-null)
 *                        when {@code bind} is not a loopback address
 * @param idleTimeout     a connection with no complete request for this long is closed
 * @param imaging         picture transforms and derived pictures
 * @param uploadExpiry    a resumable upload not finished this long after its creation is removed
 *                        with its chunks (docs/API.md, "Resumable uploads")
 */
public record ServerConfig(String bind, int port, StoreConfig store, long maxUploadBytes,
                           String writeKey, Duration idleTimeout, ImagingConfig imaging,
                           Duration uploadExpiry) {

  /** Default listen address. */
  public static final String DEFAULT_BIND = "127.0.0.1";
  /** Default port, as SeaweedFS's master so the muscle memory carries over. */
  public static final int DEFAULT_PORT = 9333;
  /** Default upload limit: 64 GiB. */
  public static final long DEFAULT_MAX_UPLOAD_BYTES = 64L << 30;
  /** Largest upload limit: 1 TiB (a manifest of 131,072 chunks, 8 MiB of entries). */
  public static final long MAX_UPLOAD_BYTES = 1L << 40;
  /** Default idle timeout. */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
  /** Default time a resumable upload may take before it is removed: 24 hours. */
  public static final Duration DEFAULT_UPLOAD_EXPIRY = Duration.ofHours(24);
  /** Shortest upload expiry: 1 second. */
  public static final Duration MIN_UPLOAD_EXPIRY = Duration.ofSeconds(1);
  /** Longest upload expiry: 365 days. */
  public static final Duration MAX_UPLOAD_EXPIRY = Duration.ofDays(365);
  /** Largest volume file, bytes: the storage engine keeps offsets as 32-bit counts of 8-byte units. */
  public static final long MAX_VOLUME_SIZE_LIMIT = StoreConfig.MAX_VOLUME_SIZE_LIMIT;

  public ServerConfig {
    Objects.requireNonNull(bind, "bind");
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    Objects.requireNonNull(imaging, "imaging");
    Objects.requireNonNull(uploadExpiry, "uploadExpiry");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port must be 0..65535, got " + port);
    }
    if (maxUploadBytes < 0 || maxUploadBytes > MAX_UPLOAD_BYTES) {
      throw new IllegalArgumentException("maxUploadBytes must be 0.." + MAX_UPLOAD_BYTES + ", got " + maxUploadBytes);
    }
    if (writeKey != null && writeKey.isBlank()) {
      throw new IllegalArgumentException("writeKey must not be blank");
    }
    if (uploadExpiry.compareTo(MIN_UPLOAD_EXPIRY) < 0 || uploadExpiry.compareTo(MAX_UPLOAD_EXPIRY) > 0) {
      throw new IllegalArgumentException("uploadExpiry must be " + MIN_UPLOAD_EXPIRY.toSeconds() + ".."
          + MAX_UPLOAD_EXPIRY.toSeconds() + " s, got " + uploadExpiry.toMillis() + " ms");
    }
  }

  public static ServerConfig defaults(StoreConfig store) {
    return new ServerConfig(DEFAULT_BIND, DEFAULT_PORT, store, DEFAULT_MAX_UPLOAD_BYTES, null, DEFAULT_IDLE_TIMEOUT,
        ImagingConfig.defaults(), DEFAULT_UPLOAD_EXPIRY);
  }

  /** The defaults, with the storage engine's defaults over the data folder {@code dataDir}. */
  public static ServerConfig defaults(Path dataDir) {
    return defaults(StoreConfig.defaults(dataDir));
  }

  public ServerConfig withBind(String b) {
    return new ServerConfig(b, port, store, maxUploadBytes, writeKey, idleTimeout, imaging, uploadExpiry);
  }

  public ServerConfig withPort(int p) {
    return new ServerConfig(bind, p, store, maxUploadBytes, writeKey, idleTimeout, imaging, uploadExpiry);
  }

  public ServerConfig withMaxUploadBytes(long bytes) {
    return new ServerConfig(bind, port, store, bytes, writeKey, idleTimeout, imaging, uploadExpiry);
  }

  public ServerConfig withWriteKey(String key) {
    return new ServerConfig(bind, port, store, maxUploadBytes, key, idleTimeout, imaging, uploadExpiry);
  }

  /** These settings for a storage node of group {@code group} (the group in its fids). */
  public ServerConfig withGroup(int group) {
    return withStore(store.withGroup(group));
  }

  public ServerConfig withStore(StoreConfig s) {
    return new ServerConfig(bind, port, s, maxUploadBytes, writeKey, idleTimeout, imaging, uploadExpiry);
  }

  /** These settings with uploads forced to disk as {@code mode} says. */
  public ServerConfig withFsync(FsyncMode mode) {
    FsyncPolicy policy = switch (mode) {
      case ALWAYS -> FsyncPolicy.ALWAYS;
      case INTERVAL -> FsyncPolicy.INTERVAL;
      case NEVER -> FsyncPolicy.NEVER;
    };
    return withStore(store.withFsyncPolicy(policy));
  }

  /**
   * These settings with volume files sealed at {@code bytes}.
   *
   * @throws IllegalArgumentException unless {@code bytes} is 1 MiB..{@link #MAX_VOLUME_SIZE_LIMIT}
   */
  public ServerConfig withVolumeSizeLimit(long bytes) {
    return withStore(store.withVolumeSizeLimit(bytes));
  }

  public ServerConfig withIdleTimeout(Duration d) {
    return new ServerConfig(bind, port, store, maxUploadBytes, writeKey, d, imaging, uploadExpiry);
  }

  /**
   * These settings with resumable uploads removed {@code d} after their creation when unfinished.
   *
   * @throws IllegalArgumentException unless {@code d} is {@link #MIN_UPLOAD_EXPIRY}..{@link #MAX_UPLOAD_EXPIRY}
   */
  public ServerConfig withUploadExpiry(Duration d) {
    return new ServerConfig(bind, port, store, maxUploadBytes, writeKey, idleTimeout, imaging, d);
  }

  public ServerConfig withImaging(ImagingConfig i) {
    return new ServerConfig(bind, port, store, maxUploadBytes, writeKey, idleTimeout, i, uploadExpiry);
  }
}
