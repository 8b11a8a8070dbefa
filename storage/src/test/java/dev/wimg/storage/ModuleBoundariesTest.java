package dev.wimg.storage;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackages;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.simpleName;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.simpleNameContaining;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The storage engine's place in the architecture, checked on its compiled classes: it reaches no
 * other WIMG module but the protocol, and no network code, so it can be tested, verified and
 * benchmarked on its own and sit under any transport.
 *
 * <p>Implementation notes: the rules read the bytecode, so a reference that javac folds away (a
 * {@code static final} constant of a primitive or String type) is not seen.
 */
@AnalyzeClasses(packages = "dev.wimg.storage", importOptions = ImportOption.DoNotIncludeTests.class)
class ModuleBoundariesTest {

  @ArchTest
  static final ArchRule reachesNoOtherModuleButTheProtocol = noClasses()
      .should().dependOnClassesThat(resideInAPackage("dev.wimg..")
          .and(resideOutsideOfPackages("dev.wimg.storage..", "dev.wimg.protocol..")))
      .because("storage is the bottom layer: server, client and cli build on it, never the reverse");

  @ArchTest
  static final ArchRule hasNoNetworkCode = noClasses()
      .should().dependOnClassesThat(resideInAnyPackage("java.net..", "javax.net..", "io.netty..")
          .or(resideInAPackage("java.nio.channels").and(simpleNameContaining("Socket")
              .or(simpleNameContaining("Datagram")).or(simpleName("NetworkChannel")))))
      .because("the storage engine has no network code: transports belong to the server");
}
