package dev.wimg.cli.internal;

import dev.wimg.server.FsyncMode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** {@code always | interval | never}, case-insensitive, to {@link FsyncMode}. */
public final class FsyncModeConverter implements ITypeConverter<FsyncMode> {

  @Override
  public FsyncMode convert(String value) {
    for (FsyncMode m : FsyncMode.values()) {
      if (m.name().equalsIgnoreCase(value.strip())) {
        return m;
      }
    }
    throw new TypeConversionException("'" + value + "' is not an fsync policy: use "
        + String.join(", ", new Names()));
  }

  /** The lower-case names, for {@code --help} and shell completion. */
  public static final class Names implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      List<String> names = new ArrayList<>();
      for (FsyncMode m : FsyncMode.values()) {
        names.add(m.name().toLowerCase(Locale.ROOT));
      }
      return names.iterator();
    }
  }
}
