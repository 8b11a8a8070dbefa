package dev.wimg.imaging;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackages;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The picture pipeline's place in the architecture, checked on its compiled classes: bytes in,
 * bytes out. Of the other WIMG modules it may use the protocol and the storage engine's API
 * package, never the engine's internals nor the server, client or cli.
 *
 * <p>Implementation notes: the rules read the bytecode, so a reference that javac folds away (a
 * {@code static final} constant of a primitive or String type) is not seen.
 */
@AnalyzeClasses(packages = "dev.wimg.imaging", importOptions = ImportOption.DoNotIncludeTests.class)
class ModuleBoundariesTest {

  @ArchTest
  static final ArchRule reachesOnlyTheProtocolAndTheStorageApi = noClasses()
      .should().dependOnClassesThat(resideInAPackage("dev.wimg..").and(
          resideOutsideOfPackages("dev.wimg.imaging..", "dev.wimg.protocol..", "dev.wimg.storage")))
      .because("imaging is used by the server; it reaches no storage internals and nothing above it");
}
