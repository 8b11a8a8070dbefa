package dev.wimg.protocol;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The protocol module's place in the architecture, checked on its compiled classes: every process
 * shares this vocabulary, so it depends on the JDK alone.
 */
@AnalyzeClasses(packages = "dev.wimg.protocol", importOptions = ImportOption.DoNotIncludeTests.class)
class ModuleBoundariesTest {

  @ArchTest
  static final ArchRule dependsOnTheJdkAlone = classes()
      .should().onlyDependOnClassesThat().resideInAnyPackage("dev.wimg.protocol..", "java..")
      .because("every WIMG process shares the protocol, so it must not pull any module or library in");
}
