package dev.wimg.storage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.storage.OutOfSpaceException.Reason;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** The strerror texts of the JDK's file channels on Linux, recognised as running out of space. */
class OutOfSpaceExceptionTest {

  @Test
  void fullDeviceQuotaAndFileSizeLimitAreRecognised() {
    IOException enospc = new IOException("No space left on device");
    OutOfSpaceException full = OutOfSpaceException.of(enospc);
    assertThat(full.reason()).isEqualTo(Reason.DEVICE_FULL);
    assertThat(full.getMessage()).isEqualTo("No space left on device");
    assertThat(full.getCause()).isSameAs(enospc);
    assertThat(OutOfSpaceException.of(new IOException("Disk quota exceeded")).reason()).isEqualTo(Reason.QUOTA);
    assertThat(OutOfSpaceException.of(new IOException("File too large")).reason()).isEqualTo(Reason.FILE_SIZE_LIMIT);
  }

  @Test
  void anOutOfSpaceExceptionIsItself() {
    OutOfSpaceException full = new OutOfSpaceException(Reason.QUOTA, "Disk quota exceeded: cannot grow", null);
    assertThat(OutOfSpaceException.of(full)).isSameAs(full);
  }

  @Test
  void otherFailuresAreNot() {
    assertThat(OutOfSpaceException.of(new IOException("Input/output error"))).isNull();
    assertThat(OutOfSpaceException.of(new IOException("fallocate failed, errno 5: cannot grow /d/1-1.dat"))).isNull();
    assertThat(OutOfSpaceException.of(new IOException((String) null))).isNull();
  }
}
