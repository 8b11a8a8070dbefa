package dev.wimg.server;

import dev.wimg.imaging.Limits;
import dev.wimg.imaging.Presets;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Settings of on-the-fly picture transforms ({@code GET /<fid>?w=300}) and of the derived pictures
 * they leave behind. The URL grammar is in {@code docs/API.md}.
 *
 * @param presets          preset name to definition in the transform grammar, for example
 *                         {@code thumb -> w=150&h=150&mode=fill}; checked here, so a bad one is an
 *                         {@link IllegalArgumentException} naming it
 * @param presetsOnly      when true a transform may only name a preset ({@code ?p=thumb})
 * @param signingKeys      HMAC-SHA256 keys of signed URLs; empty turns signing off. With keys, a
 *                         transform without a valid {@code sig} gets 403. Several keys allow
 *                         rotation: a signature made with any of them is accepted
 * @param queueLength      transforms waiting for a worker before requests get 503
 * @param cacheBytes       bytes of encoded results kept in memory (the hot set); 0 turns it off
 * @param derivedCapBytes  bytes of derived pictures kept on disk; past it the least recently used
 *                         are deleted
 * @param maxOutputSide    largest {@code w} or {@code h}, pixels
 * @param maxSourcePixels  largest source picture (width × height) a transform decodes, pixels
 */
public record ImagingConfig(Map<String, String> presets, boolean presetsOnly, List<String> signingKeys,
                            int queueLength, long cacheBytes, long derivedCapBytes, int maxOutputSide,
                            long maxSourcePixels) {

  /** Default {@link #queueLength()}: 64 waiting transforms. */
  public static final int DEFAULT_QUEUE_LENGTH = 64;
  /** Default {@link #cacheBytes()}: 64 MiB. */
  public static final long DEFAULT_CACHE_BYTES = 64L << 20;
  /** Default {@link #derivedCapBytes()}: 1 GiB. */
  public static final long DEFAULT_DERIVED_CAP_BYTES = 1L << 30;
  /** Shortest signing key accepted, bytes of UTF-8: shorter keys can be brute-forced. */
  public static final int MIN_SIGNING_KEY_BYTES = 16;

  public ImagingConfig {
    presets = Map.copyOf(new TreeMap<>(Objects.requireNonNull(presets, "presets")));
    signingKeys = List.copyOf(Objects.requireNonNull(signingKeys, "signingKeys"));
    for (String key : signingKeys) {
      if (key.getBytes(StandardCharsets.UTF_8).length < MIN_SIGNING_KEY_BYTES) {
        throw new IllegalArgumentException("a signing key must be at least " + MIN_SIGNING_KEY_BYTES + " bytes");
      }
    }
    if (queueLength < 1) {
      throw new IllegalArgumentException("transform queue length must be >= 1, got " + queueLength);
    }
    if (cacheBytes < 0) {
      throw new IllegalArgumentException("transform cache must be >= 0 bytes, got " + cacheBytes);
    }
    if (derivedCapBytes < 0) {
      throw new IllegalArgumentException("derived picture cap must be >= 0 bytes, got " + derivedCapBytes);
    }
    // Limits checks the two sides and names them; Presets checks every definition against them.
    Presets.of(presets, presetsOnly,
        Limits.defaults().withMaxOutputSide(maxOutputSide).withMaxSourcePixels(maxSourcePixels));
  }

  /** No presets, no signing, the documented defaults. */
  public static ImagingConfig defaults() {
    return new ImagingConfig(Map.of(), false, List.of(), DEFAULT_QUEUE_LENGTH, DEFAULT_CACHE_BYTES,
        DEFAULT_DERIVED_CAP_BYTES, Limits.DEFAULT_MAX_OUTPUT_SIDE, Limits.DEFAULT_MAX_SOURCE_PIXELS);
  }

  /** The engine limits of these settings. */
  public Limits limits() {
    return Limits.defaults().withMaxOutputSide(maxOutputSide).withMaxSourcePixels(maxSourcePixels);
  }

  public ImagingConfig withPresets(Map<String, String> definitions, boolean only) {
    return new ImagingConfig(definitions, only, signingKeys, queueLength, cacheBytes, derivedCapBytes,
        maxOutputSide, maxSourcePixels);
  }

  public ImagingConfig withSigningKeys(List<String> keys) {
    return new ImagingConfig(presets, presetsOnly, keys, queueLength, cacheBytes, derivedCapBytes,
        maxOutputSide, maxSourcePixels);
  }

  public ImagingConfig withQueueLength(int length) {
    return new ImagingConfig(presets, presetsOnly, signingKeys, length, cacheBytes, derivedCapBytes,
        maxOutputSide, maxSourcePixels);
  }

  public ImagingConfig withCacheBytes(long bytes) {
    return new ImagingConfig(presets, presetsOnly, signingKeys, queueLength, bytes, derivedCapBytes,
        maxOutputSide, maxSourcePixels);
  }

  public ImagingConfig withDerivedCapBytes(long bytes) {
    return new ImagingConfig(presets, presetsOnly, signingKeys, queueLength, cacheBytes, bytes,
        maxOutputSide, maxSourcePixels);
  }

  public ImagingConfig withMaxSourcePixels(long pixels) {
    return new ImagingConfig(presets, presetsOnly, signingKeys, queueLength, cacheBytes, derivedCapBytes,
        maxOutputSide, pixels);
  }

  @Override
  public String toString() {
    // Keys are secrets: never in logs.
    return "ImagingConfig[presets=" + presets.keySet() + ", presetsOnly=" + presetsOnly + ", signingKeys="
        + signingKeys.size() + ", queueLength=" + queueLength + ", cacheBytes=" + cacheBytes
        + ", derivedCapBytes=" + derivedCapBytes + ", maxOutputSide=" + maxOutputSide
        + ", maxSourcePixels=" + maxSourcePixels + "]";
  }
}
