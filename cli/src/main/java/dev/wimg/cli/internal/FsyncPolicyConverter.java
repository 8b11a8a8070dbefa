package dev.wimg.cli.internal;

import dev.wimg.storage.FsyncPolicy;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** {@code always | interval | never}, case-insensitive, to {@link FsyncPolicy}. */
public final class FsyncPolicyConverter implements ITypeConverter<FsyncPolicy> {

  @Override
  public FsyncPolicy convert(String value) {
    for (FsyncPolicy p : FsyncPolicy.values()) {
      if (p.name().equalsIgnoreCase(value.strip())) {
        return p;
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
      for (FsyncPolicy p : FsyncPolicy.values()) {
        names.add(p.name().toLowerCase(Locale.ROOT));
      }
      return names.iterator();
    }
  }
}
