package io.consort.architecture;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.lang.ArchRule;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The module rules of the README's module table, checked on each module's production bytecode
 * (see {@link ConsortModule}); {@link RandomnessRulesTest} holds the randomness rule. A violation
 * fails with the rule's sentence and reason, then one line per offending access with its source
 * line.
 */
class ModuleRulesTest {
  static final String[] DL4J = {"org.nd4j..", "org.deeplearning4j..", "org.bytedeco.."};
  static final String[] VERTX = {"io.vertx.."};
  static final String IDENTITY = "io.consort.identity..";

  @ParameterizedTest
  @EnumSource(ConsortModule.class)
  void eachModuleIsReadFromItsOwnArtifact(ConsortModule module) {
    assertTrue(module.locationIsOwnArtifact(),
        module.artifact() + " was found at " + module.location());
    assertTrue(module.classes().contain(module.anchor()),
        module.artifact() + " classes include " + module.anchor().getName());
  }

  @Test
  void identityDependsOnNoOtherConsortModule_norOnVertxOrDl4j() {
    library(ConsortModule.IDENTITY, "io.consort.identity..").check(ConsortModule.IDENTITY.classes());
  }

  @Test
  void secaggDependsOnlyOnIdentity_norOnVertxOrDl4j() {
    library(ConsortModule.SECAGG, "io.consort.secagg..", IDENTITY).check(ConsortModule.SECAGG.classes());
  }

  @Test
  void privacyDependsOnlyOnIdentity_norOnVertxOrDl4j() {
    library(ConsortModule.PRIVACY, "io.consort.privacy..", IDENTITY).check(ConsortModule.PRIVACY.classes());
  }

  @Test
  void specTouchesNoVertxOrDl4j() {
    noClasses().should().dependOnClassesThat().resideInAnyPackage(concat(VERTX, DL4J))
        .as("consort-spec depends on no Vert.x, DL4J or ND4J")
        .because("the job specification is read by the coordinator, which runs without DL4J, and by"
            + " every bank; it is plain validated values")
        .check(ConsortModule.SPEC.classes());
  }

  @Test
  void specDependsOnlyOnTheLibrariesBothPartiesShare() {
    noClasses().should().dependOnClassesThat().resideInAnyPackage("io.consort.coordinator..",
            "io.consort.participant..", "io.consort.transport..", "io.consort.certs..", "io.consort.cli..",
            "io.consort.model.dl4j..")
        .as("consort-spec depends only on model, privacy, protocol, secagg and identity")
        .because("a secure round's parameters are derived by one function (SecureRoundPlan) that the"
            + " coordinator and every bank call on the job they pinned; it must not reach into either party")
        .check(ConsortModule.SPEC.classes());
  }

  @Test
  void scoringDependsOnlyOnModelSpecAndProtocol_norOnVertxOrDl4j() {
    DescribedPredicate<JavaClass> others = otherConsortCode("io.consort.scoring..")
        .and(not(resideInAPackage("io.consort.spec..")))
        .and(not(resideInAPackage("io.consort.protocol..")))
        .and(not(resideInAPackage("io.consort.model..").and(not(resideInAPackage("io.consort.model.dl4j..")))))
        .as("Consort classes outside io.consort.scoring, spec, protocol and model (model-dl4j excluded)");
    noClasses().should().dependOnClassesThat(others)
        .orShould().dependOnClassesThat().resideInAnyPackage(concat(VERTX, DL4J))
        .as("consort-scoring depends only on consort-model, consort-spec and consort-protocol, and on no Vert.x,"
            + " DL4J or ND4J")
        .because("a bank embeds the scorer in its own decision service: plain Java that runs the network as the"
            + " banks' evaluation did, with no federation runtime; the coordinator, which runs without DL4J,"
            + " publishes models with it")
        .check(ConsortModule.SCORING.classes());
  }

  @Test
  void protocolDependsOnNoOtherConsortModule_norOnVertxOrDl4j() {
    noClasses().should().dependOnClassesThat(otherConsortCode("io.consort.protocol.."))
        .orShould().dependOnClassesThat().resideInAnyPackage(concat(VERTX, DL4J))
        .as("consort-protocol depends on no Vert.x, DL4J or ND4J and on no other Consort module")
        .because("it is the wire format every party shares: protobuf messages and their checks"
            + " only; the gRPC stubs and their Vert.x belong in consort-transport")
        .check(ConsortModule.PROTOCOL.classes());
  }

  @Test
  void coordinatorNeverDependsOnParticipant() {
    otherPartyUnused(ConsortModule.COORDINATOR, ConsortModule.PARTICIPANT,
        "io.consort.participant..").check(ConsortModule.COORDINATOR.classes());
  }

  @Test
  void participantNeverDependsOnCoordinator() {
    otherPartyUnused(ConsortModule.PARTICIPANT, ConsortModule.COORDINATOR,
        "io.consort.coordinator..").check(ConsortModule.PARTICIPANT.classes());
  }

  @Test
  void coordinatorTouchesNoDl4j() {
    noDl4j(ConsortModule.COORDINATOR, "the coordinator only initialises and averages models, in"
        + " plain Java (ModelFactory); DL4J would load hundreds of MB of native libraries for"
        + " nothing").check(ConsortModule.COORDINATOR.classes());
  }

  @Test
  void modelTouchesNoDl4j() {
    noDl4j(ConsortModule.MODEL, "the coordinator depends on consort-model and must run without"
        + " DL4J; code that needs DL4J belongs in consort-model-dl4j, which plugs into LocalTrainer"
        + " through io.consort.model.train.spi").check(ConsortModule.MODEL.classes());
  }

  private static ArchRule otherPartyUnused(ConsortModule module, ConsortModule other,
      String otherPackages) {
    return noClasses().should().dependOnClassesThat().resideInAPackage(otherPackages)
        .as(module.artifact() + " never uses " + other.artifact())
        .because("the coordinator and the banks are different parties that share only the"
            + " protocol, the transport and the libraries");
  }

  private static ArchRule noDl4j(ConsortModule module, String reason) {
    return noClasses().should().dependOnClassesThat()
        .resideInAnyPackage(concat(DL4J, new String[] {"io.consort.model.dl4j.."}))
        .as(module.artifact() + " touches no DL4J, ND4J or JavaCPP class, nor consort-model-dl4j")
        .because(reason);
  }

  /**
   * A pure library: of Consort's code only its own packages (and the shared identity library when
   * {@code allowed} names it), no transport, no ML framework.
   */
  private static ArchRule library(ConsortModule module, String ownPackages, String... allowed) {
    DescribedPredicate<JavaClass> others = otherConsortCode(ownPackages);
    for (String a : allowed) {
      others = others.and(not(resideInAPackage(a)));
    }
    return noClasses().should().dependOnClassesThat(others.as("Consort classes outside " + ownPackages
            + (allowed.length == 0 ? "" : " and " + String.join(", ", allowed))))
        .orShould().dependOnClassesThat().resideInAnyPackage(concat(VERTX, DL4J))
        .as(module.artifact() + " depends on no other Consort module" + (allowed.length == 0 ? ""
            : " but the identity library") + " and on no Vert.x, DL4J or ND4J")
        .because("it is a pure library that the coordinator and every bank run: small to audit,"
            + " testable without a network, and free to be reused on either side");
  }

  private static DescribedPredicate<JavaClass> otherConsortCode(String ownPackages) {
    return resideInAPackage("io.consort..").and(not(resideInAPackage(ownPackages)))
        .as("Consort classes outside " + ownPackages);
  }

  static String[] concat(String[] a, String[] b) {
    return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
  }
}
