package io.consort.coordinator.job;

import io.consort.protocol.v1.JobDecision;
import io.consort.protocol.v1.TaskResult;
import io.vertx.core.json.JsonObject;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * A bank's standing in a job: its answer to the offer and, once it sent feature statistics, its row
 * counts (the FedAvg weights under secure aggregation).
 *
 * @param projectedEpsilon what the bank said the whole job would cost it (record level), if it said
 * @param epsilonCap the bank's own cap, as it reported it
 */
public record BankRecord(String id, boolean accepted, String reason, OptionalDouble projectedEpsilon,
                         OptionalDouble epsilonCap, OptionalLong trainRows, OptionalLong testRows) {
  public BankRecord {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(reason, "reason");
  }

  /** The bank's answer to the job offer, or the lack of one. */
  static BankRecord fromOffer(String bank, StageAnswers answers) {
    Optional<JobDecision> d = answers.answer(bank).filter(TaskResult::hasDecision).map(TaskResult::getDecision);
    double projected = d.map(JobDecision::getProjectedEpsilon).orElse(0.0);
    return new BankRecord(bank, d.map(JobDecision::getAccept).orElse(false),
        d.map(JobDecision::getReason).orElseGet(() -> answers.problemOf(bank)),
        projected > 0 ? OptionalDouble.of(projected) : OptionalDouble.empty(),
        d.map(x -> OptionalDouble.of(x.getEpsilonCap())).orElse(OptionalDouble.empty()), OptionalLong.empty(),
        OptionalLong.empty());
  }

  BankRecord withRows(long train, long test) {
    return new BankRecord(id, accepted, reason, projectedEpsilon, epsilonCap, OptionalLong.of(train),
        OptionalLong.of(test));
  }

  JsonObject toJson() {
    JsonObject j = new JsonObject().put("id", id).put("accepted", accepted).put("reason", reason)
        .put("projected_epsilon", projectedEpsilon.isPresent() ? projectedEpsilon.getAsDouble() : null)
        .put("epsilon_cap", epsilonCap.isPresent() ? epsilonCap.getAsDouble() : null);
    trainRows.ifPresent(n -> j.put("train_rows", n));
    testRows.ifPresent(n -> j.put("test_rows", n));
    return j;
  }
}
