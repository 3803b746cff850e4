package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.protocol.Headers;
import io.consort.protocol.v1.JobDecision;
import io.consort.protocol.v1.JobOffer;
import io.consort.protocol.v1.JobPlan;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import java.util.List;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bank whose data file is broken declines the job with one message naming the problem, and the
 * daemon goes on (the handler returns a result instead of throwing).
 */
class BankTaskHandlerTest {
  @TempDir
  Path dir;

  private JobPlan lastPlan;
  private BankTaskHandler lastHandler;

  private JobDecision offer(String csv) throws Exception {
    Path data = Files.writeString(dir.resolve("data.csv"), csv);
    for (String f : new String[] {"key.pem", "cert.pem", "ca.pem"}) {
      Files.writeString(dir.resolve(f), "x");
    }
    ParticipantConfig config = new ParticipantConfig("localhost", 7443, dir.resolve("key.pem"),
        dir.resolve("cert.pem"), dir.resolve("ca.pem"), data, dir.resolve("local"), 3.0, 1e-5, 1 << 20, null, false)
        // these tests are about the bank's data; the policy's own checks are in BankPolicyTest
        .withPolicy(new BankPolicy(true, false, 2, java.util.OptionalInt.empty()));
    JobPlan plan = JobSpecWire.toProto(JobSpec.builder().id("j")
        .schema(new io.consort.model.data.DataSchema(List.of("income"),
            List.of(new io.consort.model.data.DataSchema.CategoricalColumn("region", List.of("north", "south"))),
            "default", "yes"))
        .build());
    lastPlan = plan;
    lastHandler = new BankTaskHandler(config);
    TaskResult.Builder result = lastHandler.handle(Task.newBuilder()
        .setHeader(Headers.of("j", 0, Stage.JOB_OFFER)).setJobOffer(JobOffer.newBuilder().setPlan(plan)).build());
    return result.getDecision();
  }

  @Test
  void offer_declined_whenLabelColumnMissing() throws Exception {
    JobDecision d = offer("income,region\n1,north\n2,south\n");
    assertFalse(d.getAccept());
    assertTrue(d.getReason().contains("default"), d.getReason());
  }

  @Test
  void offer_declined_whenNumericColumnHasText_namingLineAndColumn() throws Exception {
    JobDecision d = offer("income,region,default\n1,north,yes\nlots,south,no\n3,north,no\n4,south,yes\n");
    assertFalse(d.getAccept());
    assertTrue(d.getReason().contains("income") && d.getReason().contains("lots"), d.getReason());
    assertTrue(d.getReason().contains("3"), "names the line: " + d.getReason());
  }

  @Test
  void offer_declined_whenCategoryUnknown() throws Exception {
    JobDecision d = offer("income,region,default\n1,north,yes\n2,mars,no\n3,north,no\n4,south,yes\n");
    assertFalse(d.getAccept());
    assertTrue(d.getReason().contains("mars") && d.getReason().contains("region"), d.getReason());
  }

  @Test
  void offer_declined_whenFileHasNoRows() throws Exception {
    JobDecision d = offer("income,region,default\n");
    assertFalse(d.getAccept());
    assertTrue(d.getReason().toLowerCase().contains("no rows") || d.getReason().toLowerCase().contains("no data"),
        d.getReason());
  }

  @Test
  void trainTask_refused_whenItsPlanDiffersFromTheAcceptedOne() throws Exception {
    StringBuilder csv = new StringBuilder("income,region,default\n");
    for (int i = 0; i < 40; i++) {
      csv.append(i).append(',').append(i % 2 == 0 ? "north" : "south").append(',').append(i % 3 == 0 ? "yes" : "no")
          .append('\n');
    }
    assertTrue(offer(csv.toString()).getAccept());
    JobPlan changed = lastPlan.toBuilder().setLocalEpochs(50).build();
    io.consort.protocol.ProtocolViolationException e = org.junit.jupiter.api.Assertions.assertThrows(
        io.consort.protocol.ProtocolViolationException.class, () -> lastHandler.handle(Task.newBuilder()
            .setHeader(Headers.of("j", 1, Stage.TRAIN))
            .setTrain(io.consort.protocol.v1.TrainTask.newBuilder().setPlan(changed)).build()));
    assertTrue(e.getMessage().contains("different plan"), e.getMessage());
  }

  @Test
  void offer_declined_namingTheField_whenThePlanIsInvalid() throws Exception {
    offer("income,region,default\n1,north,yes\n");
    JobPlan invalid = lastPlan.toBuilder().setJobId("k").setModel(lastPlan.getModel().toBuilder().clearEngine()).build();
    JobDecision d = lastHandler.handle(Task.newBuilder().setHeader(Headers.of("k", 0, Stage.JOB_OFFER))
        .setJobOffer(JobOffer.newBuilder().setPlan(invalid)).build()).getDecision();
    assertFalse(d.getAccept());
    assertTrue(d.getReason().startsWith("model.engine "), d.getReason());
  }

  @Test
  void offer_accepted_whenDataIsGood() throws Exception {
    StringBuilder csv = new StringBuilder("income,region,default\n");
    for (int i = 0; i < 40; i++) {
      csv.append(i).append(',').append(i % 2 == 0 ? "north" : "south").append(',').append(i % 3 == 0 ? "yes" : "no")
          .append('\n');
    }
    JobDecision d = offer(csv.toString());
    assertTrue(d.getAccept(), d.getReason());
    assertEquals(3.0, d.getEpsilonCap());
  }
}
