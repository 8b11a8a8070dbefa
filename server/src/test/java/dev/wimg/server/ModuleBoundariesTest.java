package dev.wimg.server;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackages;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import java.util.ArrayList;
import java.util.List;

/**
 * The server's place in the architecture, checked on its compiled classes: it builds on the API
 * packages of the storage engine and the picture pipeline ({@code dev.wimg.storage},
 * {@code dev.wimg.imaging}) and on the protocol, never on their {@code internal} packages, and
 * never on the client or the cli.
 *
 * <p>Inside, {@code dev.wimg.server.internal} is split by concern, and each package uses only the
 * packages below it in this table (besides the libraries and the API packages above):
 *
 * <pre>
 *   package     holds                                          may use
 *   headers     header values: ranges, ETags, dates, types     nothing of the server
 *   derived     derived pictures on disk: store, index, codec  nothing of the server
 *   slots       the trackers' slot table in Raft (Ratis)       nothing of the server
 *   http        connections, dispatch, exchange, routing       headers, admin (its meters); the
 *                                                              handlers only from Router and
 *                                                              ServerContext, which wire them
 *   transform   transforms, result cache, workers              http, headers, derived
 *   files       GET, HEAD and DELETE of a file                 http, headers, transform
 *   upload      POST /files: raw and multipart bodies          http, headers
 *   admin       /status, /metrics and the meters               http, transform, replication (their
 *                                                              figures)
 *   replication a member's copies of its group's volumes:      http, transform (deletes cascade
 *               sending, receiving, catch-up                   to derived pictures), upload (its
 *                                                              memory budget holds copies too)
 *   cluster     a storage node's identity and heartbeats, and   http, replication (peers it
 *               where its large files' chunks go               learns from the trackers), large
 *                                                              (the chunk store it spreads)
 *   tracker     a tracker: cluster map, placement, endpoints,   http, slots
 *               distribution tasks and their piece handouts
 *   distribution a node's distribution tasks and pinned copies  cluster (its chunk fetch), large
 *                                                              (pins are served as large files)
 * </pre>
 *
 * <p>Implementation notes: the rules read the bytecode, so a reference that javac folds away (a
 * {@code static final} constant of a primitive or String type) is not seen.
 */
@AnalyzeClasses(packages = "dev.wimg.server", importOptions = ImportOption.DoNotIncludeTests.class)
class ModuleBoundariesTest {

  private static final String INTERNAL = "dev.wimg.server.internal";
  private static final List<String> PACKAGES =
      List.of("headers", "derived", "large", "slots", "http", "transform", "files", "upload", "admin",
          "replication", "cluster", "tracker", "distribution");

  @ArchTest
  static final ArchRule reachesOnlyTheApiOfTheModulesBelow = noClasses()
      .should().dependOnClassesThat(resideInAPackage("dev.wimg..").and(resideOutsideOfPackages(
          "dev.wimg.server..", "dev.wimg.protocol..", "dev.wimg.transfer", "dev.wimg.storage", "dev.wimg.imaging")))
      .because("a module's internal package is its own; the server talks to storage and imaging "
          + "through their API packages and knows nothing of the client or the cli");

  @ArchTest
  static final ArchRule internalClassesLiveInTheirConcernsPackage = classes()
      .that().resideInAPackage(INTERNAL + "..")
      .should().resideInAnyPackage(PACKAGES.stream().map(p -> INTERNAL + "." + p).toArray(String[]::new))
      .because("the package list shows the architecture: a class belongs to one concern's package, "
          + "not to a flat internal package");

  @ArchTest
  static final ArchRule headerValuesUseNothingOfTheServer = noClasses()
      .that().resideInAPackage(INTERNAL + ".headers")
      .should().dependOnClassesThat(resideInAPackage("dev.wimg.server..")
          .and(resideOutsideOfPackages(INTERNAL + ".headers")))
      .because("header values are parsed and formatted from strings and numbers alone");

  @ArchTest
  static final ArchRule derivedPicturesUseNothingOfTheServer = noClasses()
      .that().resideInAPackage(INTERNAL + ".derived")
      .should().dependOnClassesThat(resideInAPackage("dev.wimg.server..")
          .and(resideOutsideOfPackages(INTERNAL + ".derived")))
      .because("the derived store and its index are storage: they know neither HTTP nor how a "
          + "picture is computed, so their recovery can be tested and reasoned about alone");

  @ArchTest
  static final ArchRule largeFilesUseNothingOfTheServer = noClasses()
      .that().resideInAPackage(INTERNAL + ".large")
      .should().dependOnClassesThat(resideInAPackage("dev.wimg.server..")
          .and(resideOutsideOfPackages(INTERNAL + ".large")))
      .because("a large file's manifest is a storage format over the store's API: the upload, "
          + "read, delete and transform handlers use it, it knows none of them");

  @ArchTest
  static final ArchRule theSlotTableUsesNothingOfTheServer = noClasses()
      .that().resideInAPackage(INTERNAL + ".slots")
      .should().dependOnClassesThat(resideInAPackage("dev.wimg.server..")
          .and(resideOutsideOfPackages(INTERNAL + ".slots")))
      .because("the slot table is consensus state: its rules and its Raft wiring are tested alone, "
          + "and no HTTP or storage concern leaks into what every tracker must apply alike");

  @ArchTest
  static final ArchRule httpReachesTheHandlersOnlyWhereItWiresThem = noClasses()
      .that().resideInAPackage(INTERNAL + ".http")
      .and().doNotHaveSimpleName("Router")
      .and().doNotHaveSimpleName("ServerContext")
      .should().dependOnClassesThat().resideInAnyPackage(internal("files", "upload", "transform", "derived",
          "replication"))
      .because("the HTTP plumbing serves any handler: only the router picks them and only the "
          + "shared context holds their services");

  @ArchTest
  static final ArchRule transformUsesOnlyHttpHeadersDerivedAndLarge =
      usesOnly("transform", "http", "headers", "derived", "large");

  @ArchTest
  static final ArchRule filesUseOnlyHttpHeadersTransformAndLarge =
      usesOnly("files", "http", "headers", "transform", "large");

  @ArchTest
  static final ArchRule uploadUsesOnlyHttpHeadersAndLarge = usesOnly("upload", "http", "headers", "large");

  @ArchTest
  static final ArchRule adminUsesOnlyHttpTransformAndReplication =
      usesOnly("admin", "http", "transform", "replication");

  @ArchTest
  static final ArchRule replicationUsesOnlyHttpTransformAndUploadBudget =
      usesOnly("replication", "http", "transform", "upload");

  @ArchTest
  static final ArchRule clusterUsesOnlyHttpReplicationAndLarge =
      usesOnly("cluster", "http", "replication", "large");

  @ArchTest
  static final ArchRule distributionUsesOnlyClusterAndLarge = usesOnly("distribution", "cluster", "large");

  @ArchTest
  static final ArchRule trackerUsesOnlyHttpAndSlots = usesOnly("tracker", "http", "slots");

  /** No class of {@code pkg} uses an internal package other than {@code allowed}. */
  private static ArchRule usesOnly(String pkg, String... allowed) {
    List<String> forbidden = new ArrayList<>(PACKAGES);
    forbidden.remove(pkg);
    forbidden.removeAll(List.of(allowed));
    return noClasses()
        .that().resideInAPackage(INTERNAL + "." + pkg)
        .should().dependOnClassesThat().resideInAnyPackage(internal(forbidden.toArray(String[]::new)))
        .because("a handler package builds on the HTTP plumbing and the header values, not on "
            + "another handler; its allowed packages are in the table of " + ModuleBoundariesTest.class.getSimpleName());
  }

  private static String[] internal(String... packages) {
    String[] names = new String[packages.length];
    for (int i = 0; i < packages.length; i++) {
      names[i] = INTERNAL + "." + packages[i];
    }
    return names;
  }
}
