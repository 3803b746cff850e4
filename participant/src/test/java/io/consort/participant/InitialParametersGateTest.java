package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataSchema;
import io.consort.model.train.ModelFactory;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.Headers;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.EvaluateTask;
import io.consort.protocol.v1.JobOffer;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.spec.InitialParameters;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import io.consort.spec.PrivacyMode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job that brings its own initial parameters (a network from Keras): the bank evaluates as version 0
 * only those pinned values, so a coordinator cannot pass off weights of its own (or the Xavier
 * initialisation the plan replaced) as the job's initial model to probe the bank's held-out rows.
 */
class InitialParametersGateTest {
  @TempDir
  Path dir;

  private BankTaskHandler bank;
  private JobSpec spec;
  private JobPlan plan;
  private ModelParameters initial;

  @BeforeEach
  void acceptedJobWithItsOwnInitialParameters() throws Exception {
    Path data = TestModels.regionLoans(dir);
    bank = TestModels.bank1(dir, data);
    // income and region's two declared levels: 3 inputs, a 3-4-1 MLP of 3*4+4+4+1 = 21 parameters
    float[] brought = new float[21];
    for (int i = 0; i < brought.length; i++) {
      brought[i] = 0.05f * (i % 7) - 0.1f;
    }
    spec = JobSpec.builder().id("brought").privacy(PrivacyMode.RECORD).targetEpsilon(1.0).hiddenLayers(List.of(4))
        .schema(new DataSchema(List.of("income"), List.of(new DataSchema.CategoricalColumn("region",
            List.of("north", "south"))), "default", "yes"))
        .initialParameters(new InitialParameters(brought)).build();
    plan = JobSpecWire.toProto(spec);
    bank.handle(Task.newBuilder().setHeader(Headers.of("brought", 0, Stage.JOB_OFFER))
        .setJobOffer(JobOffer.newBuilder().setPlan(plan)).build());
    initial = TestModels.initialModel(spec, data);
    assertArrayEquals(brought, ModelWire.values(initial));
  }

  private Task evaluate(ModelParameters model) {
    // under secure aggregation only the last round's model has an evaluation sum of its own
    return Task.newBuilder().setHeader(Headers.of("brought", spec.training().rounds(), Stage.EVALUATE))
        .setEvaluate(EvaluateTask.newBuilder().setGlobalModel(model).setPlan(plan)
            .addAllRoundMembers(List.of("bank-1", "bank-2"))).build();
  }

  @Test
  void thePinnedInitialParameters_areEvaluatedAsVersion0() throws Exception {
    assertTrue(bank.handle(evaluate(initial)).getEvaluation().hasSecureSum());
  }

  @Test
  void otherWeightsSentAsVersion0_areRefused_evenTheXavierInitialisationThePlanReplaced() {
    float[] probe = ModelWire.values(initial);
    probe[20] += 0.25f;
    float[] xavier = ModelFactory.initialParameters(spec.model(), 3);
    for (float[] forged : List.of(probe, xavier)) {
      ProtocolViolationException e = assertThrows(ProtocolViolationException.class,
          () -> bank.handle(evaluate(ModelWire.withValues(initial, forged, 0))));
      assertTrue(e.getMessage().contains("model version 0 is not the job's initial model"), e.getMessage());
    }
  }
}
