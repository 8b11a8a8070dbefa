package dev.wimg.imaging.internal;

import java.nio.ByteBuffer;
import javax.imageio.stream.ImageInputStreamImpl;

/**
 * An ImageIO input stream over a byte buffer, read in place: no copy, no cache file (ImageIO's
 * own streams over an InputStream cache what they read in memory or in a temporary file).
 */
final class ByteBufferImageInputStream extends ImageInputStreamImpl {

  private final ByteBuffer data;

  /** @param data read from its position to its limit; the caller's buffer is not modified */
  ByteBufferImageInputStream(ByteBuffer data) {
    this.data = data.slice();
  }

  @Override
  public int read() throws java.io.IOException {
    checkClosed();
    bitOffset = 0;
    if (streamPos >= data.limit()) {
      return -1;
    }
    return data.get((int) streamPos++) & 0xFF;
  }

  @Override
  public int read(byte[] b, int off, int len) throws java.io.IOException {
    checkClosed();
    java.util.Objects.checkFromIndexSize(off, len, b.length);
    bitOffset = 0;
    if (len == 0) {
      return 0;
    }
    long available = data.limit() - streamPos;
    if (available <= 0) {
      return -1;
    }
    int n = (int) Math.min(len, available);
    data.get((int) streamPos, b, off, n);
    streamPos += n;
    return n;
  }

  @Override
  public long length() {
    return data.limit();
  }
}
