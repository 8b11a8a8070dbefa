package dev.wimg.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.junit.jupiter.api.Test;

/**
 * Which store failures an upload answers with 507 rather than 500: the messages below are the ones
 * the JDK's file channels and the store's fallocate path produce on Linux. The end-to-end proof
 * under a real file-size limit is {@code StorageFullTest} in the cli module.
 */
class OutOfSpaceTest {

  @Test
  void fullDeviceQuotaAndFileSizeLimitAreOutOfSpace() {
    assertThat(UploadHandler.outOfSpace(new IOException("No space left on device")))
        .isEqualTo("no space left on the server's storage device");
    assertThat(UploadHandler.outOfSpace(new IOException(
        "no space left on device: cannot grow /d/1-1.dat by 67108864 bytes at offset 4096")))
        .isEqualTo("no space left on the server's storage device");
    assertThat(UploadHandler.outOfSpace(new IOException("Disk quota exceeded")))
        .isEqualTo("the server's disk quota is used up");
    assertThat(UploadHandler.outOfSpace(new IOException(
        "fallocate failed, errno 122: cannot grow /d/1-1.dat by 8 bytes at offset 0")))
        .isEqualTo("the server's disk quota is used up");
    assertThat(UploadHandler.outOfSpace(new IOException("File too large")))
        .isEqualTo("a volume file reached the largest size the server may write");
    assertThat(UploadHandler.outOfSpace(new IOException(
        "fallocate failed, errno 27: cannot grow /d/1-1.dat by 67112960 bytes at offset 68157568")))
        .isEqualTo("a volume file reached the largest size the server may write");
  }

  @Test
  void causeChainIsSearched() {
    IOException cause = new IOException("No space left on device");
    assertThat(UploadHandler.outOfSpace(new IOException("storage writer failed", cause)))
        .isEqualTo("no space left on the server's storage device");
  }

  @Test
  void otherFailuresAreNotOutOfSpace() {
    assertThat(UploadHandler.outOfSpace(new IOException("Input/output error"))).isNull();
    assertThat(UploadHandler.outOfSpace(new IOException("fallocate failed, errno 5: cannot grow /d/1-1.dat"))).isNull();
    assertThat(UploadHandler.outOfSpace(new IOException("fallocate failed, errno 270: cannot grow /d/1-1.dat"))).isNull();
    assertThat(UploadHandler.outOfSpace(new IOException("store is closed"))).isNull();
    assertThat(UploadHandler.outOfSpace(new IOException((String) null))).isNull();
    // Only I/O failures count: a bug whose text mentions the words is still a bug.
    assertThat(UploadHandler.outOfSpace(new IllegalStateException("No space left on device"))).isNull();
    assertThat(UploadHandler.outOfSpace(new UncheckedIOException(new IOException("File too large"))))
        .isEqualTo("a volume file reached the largest size the server may write");
  }
}
