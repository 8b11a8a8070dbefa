package dev.wimg.server;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackages;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The server's place in the architecture, checked on its compiled classes: it builds on the API
 * packages of the storage engine and the picture pipeline ({@code dev.wimg.storage},
 * {@code dev.wimg.imaging}) and on the protocol, never on their {@code internal} packages, and
 * never on the client or the cli.
 *
 * <p>Implementation notes: the rules read the bytecode, so a reference that javac folds away (a
 * {@code static final} constant of a primitive or String type) is not seen.
 */
@AnalyzeClasses(packages = "dev.wimg.server", importOptions = ImportOption.DoNotIncludeTests.class)
class ModuleBoundariesTest {

  @ArchTest
  static final ArchRule reachesOnlyTheApiOfTheModulesBelow = noClasses()
      .should().dependOnClassesThat(resideInAPackage("dev.wimg..").and(resideOutsideOfPackages(
          "dev.wimg.server..", "dev.wimg.protocol..", "dev.wimg.storage", "dev.wimg.imaging")))
      .because("a module's internal package is its own; the server talks to storage and imaging "
          + "through their API packages and knows nothing of the client or the cli");
}
