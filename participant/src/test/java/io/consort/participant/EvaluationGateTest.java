package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataSchema;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.Headers;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.EvaluateTask;
import io.consort.protocol.v1.JobOffer;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import io.consort.spec.PrivacyMode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A coordinator that scores a bank's held-out rows with models of its own making could read them off
 * the histograms; the bank evaluates only released models.
 */
class EvaluationGateTest {
  @TempDir
  Path dir;

  private BankTaskHandler bank;
  private JobSpec spec;
  private JobPlan plan;
  private ModelParameters initial;

  @BeforeEach
  void acceptedJob() throws Exception {
    Path data = TestModels.regionLoans(dir);
    bank = TestModels.bank1(dir, data);
    spec = JobSpec.builder().id("gate").privacy(PrivacyMode.RECORD).targetEpsilon(1.0).hiddenLayers(List.of(4))
        .schema(new DataSchema(List.of("income"), List.of(DataSchema.CategoricalColumn.open("region")), "default",
            "yes")).build();
    plan = JobSpecWire.toProto(spec);
    bank.handle(Task.newBuilder().setHeader(Headers.of("gate", 0, Stage.JOB_OFFER))
        .setJobOffer(JobOffer.newBuilder().setPlan(plan)).build());
    initial = TestModels.initialModel(spec, data);
  }

  private Task evaluate(ModelParameters model) {
    // under secure aggregation only the last round's model has an evaluation sum of its own
    return Task.newBuilder().setHeader(Headers.of("gate", spec.training().rounds(), Stage.EVALUATE))
        .setEvaluate(EvaluateTask.newBuilder().setGlobalModel(model).setPlan(plan)
            .addAllRoundMembers(List.of("bank-1", "bank-2"))).build();
  }

  private void assertRefused(ModelParameters model, String because) {
    ProtocolViolationException e = assertThrows(ProtocolViolationException.class, () -> bank.handle(evaluate(model)));
    assertTrue(e.getMessage().contains(because), e.getMessage());
  }

  @Test
  void theJobsInitialModel_isEvaluated() throws Exception {
    // under secure aggregation the histogram goes into the secure sum the answer opens
    assertTrue(bank.handle(evaluate(initial)).getEvaluation().hasSecureSum());
  }

  @Test
  void aProbingModelPassedOffAsTheInitialOne_isRefused() {
    float[] probe = ModelWire.values(initial);
    probe[0] += 1;
    assertRefused(ModelWire.withValues(initial, probe, 0), "is not the job's initial model");
  }

  @Test
  void aModelNoEntryThisBankCountersignedReleased_isRefused() {
    float[] probe = ModelWire.values(initial);
    probe[1] -= 0.5f;
    assertRefused(ModelWire.withValues(initial, probe, 3), "is in no ledger entry this bank countersigned");
  }

  @Test
  void aModelWhoseChecksumIsNotItsValues_isRefused() {
    float[] probe = ModelWire.values(initial);
    probe[2] *= 2;
    ModelParameters forged = ModelWire.withValues(initial, probe, 0).toBuilder().setSha256(initial.getSha256()).build();
    assertRefused(forged, "is not that of its values");
  }
}
