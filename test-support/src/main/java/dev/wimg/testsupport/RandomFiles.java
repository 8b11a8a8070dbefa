package dev.wimg.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;

/** Large test files of seeded random bytes, and the SHA-256 that tells two copies apart. */
public final class RandomFiles {

  private RandomFiles() {}

  /**
   * Writes {@code size} bytes of random data (the same for the same seed) to {@code file}.
   *
   * @return their SHA-256, hex
   */
  public static String write(Path file, long size, long seed) throws IOException {
    MessageDigest sha = sha256();
    try (OutputStream out = Files.newOutputStream(file)) {
      Random random = new Random(seed);
      byte[] block = new byte[1 << 20];
      for (long done = 0; done < size; done += block.length) {
        random.nextBytes(block);
        int n = (int) Math.min(block.length, size - done);
        sha.update(block, 0, n);
        out.write(block, 0, n);
      }
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  /** The SHA-256 (hex) and length of what {@code in} yields; closes it. */
  public record Digest(String sha256, long bytes) {}

  public static Digest digest(InputStream in) throws IOException {
    MessageDigest sha = sha256();
    long bytes = 0;
    try (in) {
      byte[] buf = new byte[1 << 20];
      for (int n; (n = in.read(buf)) > 0; ) {
        sha.update(buf, 0, n);
        bytes += n;
      }
    }
    return new Digest(HexFormat.of().formatHex(sha.digest()), bytes);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
