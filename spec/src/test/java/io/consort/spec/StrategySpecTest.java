package io.consort.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.protocol.v1.JobPlan;
import io.consort.spec.StrategySpec.Name;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class StrategySpecTest {
  @Test
  void aJobDefaultsToPlainFedAvg() {
    assertEquals(StrategySpec.fedAvg(), JobSpecTest.base().build().training().strategy());
  }

  @ParameterizedTest
  @EnumSource(Name.class)
  void everyStrategy_roundTripsThroughTheWireAndTheBuilderUnchanged(Name name) {
    JobSpec spec = JobSpecTest.base().strategy(StrategySpec.defaults(name)).build();
    assertEquals(spec, JobSpecWire.fromProto(JobSpecWire.toProto(spec)));
    assertEquals(spec, spec.toBuilder().build());
  }

  @Test
  void theAdaptiveDefaults_areReddiEtAls() {
    StrategySpec adam = StrategySpec.defaults(Name.FEDADAM);
    assertEquals(0.01, adam.serverLearningRate());
    assertEquals(0.9, adam.beta1());
    assertEquals(0.99, adam.beta2());
    assertEquals(1e-3, adam.tau());
    assertEquals(0, StrategySpec.defaults(Name.FEDADAGRAD).beta2());
  }

  @Test
  void aSettingTheRuleDoesNotUse_isRefusedNotIgnored() {
    assertField("strategy.server_learning_rate", () -> new StrategySpec(Name.FEDAVG, 0.5, 0, 0, 0));
    assertField("strategy.beta1", () -> new StrategySpec(Name.FEDAVG, 1, 0.9, 0, 0));
    assertField("strategy.beta2", () -> new StrategySpec(Name.FEDAVGM, 1, 0.9, 0.99, 0));
    assertField("strategy.beta2", () -> new StrategySpec(Name.FEDADAGRAD, 0.01, 0.9, 0.99, 1e-3));
    assertField("strategy.tau", () -> new StrategySpec(Name.FEDAVGM, 1, 0.9, 0, 1e-3));
  }

  @Test
  void invalidValues_nameTheirField() {
    assertField("strategy.server_learning_rate", () -> new StrategySpec(Name.FEDADAM, 0, 0.9, 0.99, 1e-3));
    assertField("strategy.server_learning_rate", () -> new StrategySpec(Name.FEDADAM, Double.NaN, 0.9, 0.99, 1e-3));
    assertField("strategy.beta1", () -> new StrategySpec(Name.FEDADAM, 0.01, 1, 0.99, 1e-3));
    assertField("strategy.beta2", () -> new StrategySpec(Name.FEDYOGI, 0.01, 0.9, -0.1, 1e-3));
    assertField("strategy.tau", () -> new StrategySpec(Name.FEDADAM, 0.01, 0.9, 0.99, 0));
  }

  @Test
  void aPlanWithoutAStrategyOrWithAnUnknownOne_isRefused() {
    JobPlan plan = JobSpecWire.toProto(JobSpecTest.base().build());
    InvalidJobSpecException missing = assertThrows(InvalidJobSpecException.class,
        () -> JobSpecWire.fromProto(plan.toBuilder().clearStrategy().build()));
    assertEquals("strategy", missing.field());
    InvalidJobSpecException unknown = assertThrows(InvalidJobSpecException.class, () -> JobSpecWire.fromProto(
        plan.toBuilder().setStrategy(plan.getStrategy().toBuilder().setName("fedprox")).build()));
    assertEquals("strategy.name", unknown.field());
    assertTrue(unknown.getMessage().contains("fedavg, fedavgm, fedadam, fedyogi, fedadagrad"), unknown.getMessage());
  }

  @Test
  void theDescription_namesTheRuleItsPaperAndItsSettings() {
    assertEquals("FedAdam (Reddi et al. 2021), server learning rate 0.01, beta1 0.9, beta2 0.99, tau 0.001; updates "
        + "weighted by each bank's training rows", StrategySpec.defaults(Name.FEDADAM).description());
    assertTrue(StrategySpec.fedAvg().description().startsWith("FedAvg (McMahan et al. 2017)"));
  }

  private static void assertField(String field, Runnable build) {
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class, build::run);
    assertEquals(field, e.field(), e.getMessage());
  }
}
