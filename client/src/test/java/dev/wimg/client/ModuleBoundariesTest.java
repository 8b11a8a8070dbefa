package dev.wimg.client;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackages;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The client's place in the architecture, checked on its compiled classes: it speaks HTTP and the
 * protocol and the transfer module, and reaches no server, storage, imaging or cli code, so an application embeds it
 * without pulling a server in.
 *
 * <p>Implementation notes: the rules read the bytecode, so a reference that javac folds away (a
 * {@code static final} constant of a primitive or String type) is not seen.
 */
@AnalyzeClasses(packages = "dev.wimg.client", importOptions = ImportOption.DoNotIncludeTests.class)
class ModuleBoundariesTest {

  @ArchTest
  static final ArchRule reachesNoOtherModuleButTheProtocol = noClasses()
      .should().dependOnClassesThat(resideInAPackage("dev.wimg..")
          .and(resideOutsideOfPackages("dev.wimg.client..", "dev.wimg.protocol..", "dev.wimg.transfer")))
      .because("the client has no server code: what it shares with the server is the protocol and the"
          + " bulk transfer connection");
}
