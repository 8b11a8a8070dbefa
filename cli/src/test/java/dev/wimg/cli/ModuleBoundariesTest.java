package dev.wimg.cli;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackages;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The cli's place in the architecture, checked on its compiled classes: it is a shell over the
 * public API of the client ({@code dev.wimg.client}) and the server ({@code dev.wimg.server}), plus
 * the protocol; it reaches neither package's {@code internal} code nor the storage engine or the
 * picture pipeline, whose settings it configures through the server's API.
 *
 * <p>Implementation notes: the rules read the bytecode, so a reference that javac folds away (a
 * {@code static final} constant of a primitive or String type) is not seen.
 */
@AnalyzeClasses(packages = "dev.wimg.cli", importOptions = ImportOption.DoNotIncludeTests.class)
class ModuleBoundariesTest {

  @ArchTest
  static final ArchRule reachesOnlyThePublicApiOfClientAndServer = noClasses()
      .should().dependOnClassesThat(resideInAPackage("dev.wimg..").and(resideOutsideOfPackages(
          "dev.wimg.cli..", "dev.wimg.client", "dev.wimg.server", "dev.wimg.server.tracker",
          "dev.wimg.protocol..")))
      .because("the cli runs a server and talks to one as a client: it uses their public API only");
}
