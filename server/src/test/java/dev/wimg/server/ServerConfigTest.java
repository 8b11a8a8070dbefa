package dev.wimg.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.wimg.storage.FsyncPolicy;
import dev.wimg.storage.StoreConfig;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The storage settings a node's operator sets through the server's own API ({@code wimg server}). */
class ServerConfigTest {

  private final Path data = Path.of("/srv/wimg-data");

  @Test
  void eachFsyncModeBecomesTheStoragePolicyOfTheSameName() {
    for (FsyncMode mode : FsyncMode.values()) {
      FsyncPolicy policy = ServerConfig.defaults(data).withFsync(mode).store().fsyncPolicy();
      assertThat(policy.name()).as(mode.name()).isEqualTo(mode.name());
    }
    assertThat(FsyncMode.values()).hasSameSizeAs(FsyncPolicy.values());
  }

  @Test
  void defaultsOverADataFolderAreTheStorageEngineDefaultsThere() {
    assertThat(ServerConfig.defaults(data)).isEqualTo(ServerConfig.defaults(StoreConfig.defaults(data)));
  }

  @Test
  void volumeSizeLimitIsCheckedByTheStorageEngine() {
    assertThat(ServerConfig.defaults(data).withVolumeSizeLimit(256L << 20).store().volumeSizeLimit())
        .isEqualTo(256L << 20);
    assertThatThrownBy(() -> ServerConfig.defaults(data).withVolumeSizeLimit(ServerConfig.MAX_VOLUME_SIZE_LIMIT + 8))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("volumeSizeLimit must be 1 MiB.." + ServerConfig.MAX_VOLUME_SIZE_LIMIT + " bytes, got "
            + (ServerConfig.MAX_VOLUME_SIZE_LIMIT + 8));
  }

  @Test
  void uploadExpiryIsADayByDefaultAndAtLeastASecond() {
    assertThat(ServerConfig.defaults(data).uploadExpiry()).isEqualTo(Duration.ofHours(24));
    assertThat(ServerConfig.defaults(data).withUploadExpiry(Duration.ofMinutes(5)).uploadExpiry())
        .isEqualTo(Duration.ofMinutes(5));
    assertThatThrownBy(() -> ServerConfig.defaults(data).withUploadExpiry(Duration.ofMillis(500)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("uploadExpiry must be 1..31536000 s, got 500 ms");
  }
}
