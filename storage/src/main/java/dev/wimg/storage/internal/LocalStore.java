package dev.wimg.storage.internal;

import dev.wimg.storage.Store;
import dev.wimg.storage.StoreConfig;
import dev.wimg.storage.VerifyReport;
import java.io.IOException;
import java.nio.file.Path;

/** The engine behind {@link Store}. Being written: see the storage module's README. */
public final class LocalStore {

  private LocalStore() {}

  public static Store open(StoreConfig config) throws IOException {
    throw new UnsupportedOperationException("storage engine not written yet");
  }

  public static VerifyReport verify(Path dataDir) throws IOException {
    throw new UnsupportedOperationException("storage engine not written yet");
  }
}
