package dev.wimg.cli.internal;

import java.lang.reflect.Constructor;
import picocli.CommandLine;
import picocli.CommandLine.IFactory;

/**
 * Creates command objects for picocli, handing the {@link Environment} to every class with a
 * constructor that takes one; other classes (converters, mixins) get picocli's default factory.
 */
final class CommandFactory implements IFactory {

  private final Environment environment;
  private final IFactory fallback = CommandLine.defaultFactory();

  CommandFactory(Environment environment) {
    this.environment = environment;
  }

  @Override
  public <K> K create(Class<K> type) throws Exception {
    Constructor<K> withEnvironment;
    try {
      withEnvironment = type.getDeclaredConstructor(Environment.class);
    } catch (NoSuchMethodException e) {
      return fallback.create(type);
    }
    return withEnvironment.newInstance(environment);
  }
}
