package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.DemoPki;
import io.consort.certs.TlsMaterial;
import io.consort.model.data.DataSchema;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.Headers;
import io.consort.protocol.v1.JobOffer;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import io.consort.protocol.v1.TrainTask;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import io.consort.spec.PrivacyMode;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attack: the global model is the coordinator's. A NaN or infinite parameter, or a finite one so large that
 * training overflows, makes the bank's DP-SGD produce non-finite values; sent in the clear (a job without
 * secure aggregation, which this bank's policy allows), which coordinates came out NaN is a function of the
 * bank's rows that no noise covers. A non-finite model is refused before any spend, and an update that comes
 * out non-finite is never sent.
 */
class HostileGlobalModelTest {
  @TempDir
  Path dir;

  private BankTaskHandler bank;
  private JobSpec spec;
  private JobPlan plan;
  private ModelParameters initial;

  @BeforeEach
  void bankInAPlaintextRecordLevelJob() throws Exception {
    Path data = TestModels.regionLoans(dir);
    TlsMaterial t = DemoPki.create(dir.resolve("pki"), "coordinator", List.of("bank-1")).bank("bank-1");
    bank = new BankTaskHandler(new ParticipantConfig("localhost", 7443, t.keyFile(), t.chainFile(), t.caFile(), data,
        dir.resolve("local"), 3.0, 1e-5, 1 << 20, null, false, null, null,
        new BankPolicy(false, false, 2, OptionalInt.empty()), 0.25));
    spec = JobSpec.builder().id("hostile").privacy(PrivacyMode.RECORD).targetEpsilon(1.0).secureAggregation(false)
        .schema(new DataSchema(List.of("income"), List.of(DataSchema.CategoricalColumn.open("region")), "default",
            "yes")).build();
    plan = JobSpecWire.toProto(spec);
    assertTrue(bank.handle(Task.newBuilder().setHeader(Headers.of("hostile", 0, Stage.JOB_OFFER))
        .setJobOffer(JobOffer.newBuilder().setPlan(plan)).build()).getDecision().getAccept());
    initial = TestModels.initialModel(spec, data);
  }

  private Task train(float[] values) {
    return Task.newBuilder().setHeader(Headers.of("hostile", 1, Stage.TRAIN)).setTrain(TrainTask.newBuilder()
        .setPlan(plan).setGlobalModel(ModelWire.withValues(initial, values, 0))
        .addAllRoundMembers(List.of("bank-1", "bank-2"))).build();
  }

  @Test
  void aGlobalModelWithANanOrInfiniteParameter_isRefusedBeforeAnySpend() throws Exception {
    for (float hostile : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
      float[] values = ModelWire.values(initial);
      values[3] = hostile;
      Exception e = assertThrows(Exception.class, () -> bank.handle(train(values)));
      assertTrue(e.getMessage().contains("parameter 3 is " + hostile), e.getMessage());
    }
    assertEquals(0, new SpendJournal(dir.resolve("local")).releases().size(), "a refused round is journalled as spent");
  }

  @Test
  void anUpdateThatOverflows_isNeverSent() throws Exception {
    float[] values = ModelWire.values(initial);
    // a first-layer weight this large overflows the hidden activations of every row with that input
    for (int i = 0; i < values.length; i++) {
      values[i] = i % 2 == 0 ? 3e38f : -3e38f;
    }
    TaskResult.Builder result;
    try {
      result = bank.handle(train(values));
    } catch (IllegalStateException e) {
      assertTrue(e.getMessage().contains("not finite"), e.getMessage());
      // which coordinate overflowed depends on the bank's rows: the message must not say
      assertFalse(e.getMessage().replace("round 1", "").matches(".*\\d.*"), e.getMessage());
      return;
    }
    for (float d : result.getUpdate().getDeltaList()) {
      assertTrue(Float.isFinite(d), "the bank sent a non-finite update value " + d);
    }
  }
}
