package dev.wimg.server.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.wimg.storage.OutOfSpaceException;
import dev.wimg.storage.OutOfSpaceException.Reason;
import java.io.IOException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/**
 * Which store failures an upload or a delete answers with 507 rather than 500. The end-to-end proof under a
 * real file-size limit is {@code StorageFullTest} in the cli module; how the store recognises the
 * failures is {@code OutOfSpaceExceptionTest} in the storage module.
 */
class OutOfSpaceTest {

  @Test
  void eachReasonHasItsPhrase() {
    assertThat(ErrorResponses.outOfSpace(new OutOfSpaceException(Reason.DEVICE_FULL, "No space left on device", null)))
        .isEqualTo("no space left on the server's storage device");
    assertThat(ErrorResponses.outOfSpace(new OutOfSpaceException(Reason.QUOTA, "Disk quota exceeded", null)))
        .isEqualTo("the server's disk quota is used up");
    assertThat(ErrorResponses.outOfSpace(new OutOfSpaceException(Reason.FILE_SIZE_LIMIT, "File too large", null)))
        .isEqualTo("a volume file reached the largest size the server may write");
  }

  @Test
  void causeChainIsSearched() {
    OutOfSpaceException full = new OutOfSpaceException(Reason.DEVICE_FULL, "No space left on device", null);
    assertThat(ErrorResponses.outOfSpace(new CompletionException(full)))
        .isEqualTo("no space left on the server's storage device");
  }

  @Test
  void otherFailuresAreNotOutOfSpace() {
    assertThat(ErrorResponses.outOfSpace(new IOException("Input/output error"))).isNull();
    assertThat(ErrorResponses.outOfSpace(new IOException("store is closed"))).isNull();
    // only the store's typed failure counts, not words in a message
    assertThat(ErrorResponses.outOfSpace(new IOException("No space left on device"))).isNull();
    assertThat(ErrorResponses.outOfSpace(new IllegalStateException("No space left on device"))).isNull();
  }
}
