package io.consort.coordinator.job;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Each bank's privacy standing in a job as the ledger shows it so far: its latest record-level and
 * bank-level epsilon totals and the rounds it declined. Built from round records, so a resumed job
 * shows the same figures as one that never stopped.
 */
final class PrivacyTotals {
  private final Map<String, Double> recordEpsilon = new LinkedHashMap<>();
  private final Map<String, Double> bankEpsilon = new LinkedHashMap<>();
  private final Map<String, JsonArray> declinedRounds = new LinkedHashMap<>();

  void add(RoundRecord record) {
    record.release().ifPresent(r -> {
      recordEpsilon.putAll(r.epsilon());
      bankEpsilon.putAll(r.bankEpsilon());
    });
    for (String bank : record.declined()) {
      declinedRounds.computeIfAbsent(bank, k -> new JsonArray()).add(record.round());
    }
  }

  /** The bank's record-level epsilon total so far, when record-level DP is on. */
  OptionalDouble recordEpsilon(String bank) {
    Double e = recordEpsilon.get(bank);
    return e == null ? OptionalDouble.empty() : OptionalDouble.of(e);
  }

  /** The bank's bank-level epsilon total so far, when bank-level DP is on. */
  OptionalDouble bankEpsilon(String bank) {
    Double e = bankEpsilon.get(bank);
    return e == null ? OptionalDouble.empty() : OptionalDouble.of(e);
  }

  /** The rounds the bank declined. */
  java.util.List<Integer> declinedRounds(String bank) {
    JsonArray rounds = declinedRounds.get(bank);
    return rounds == null ? java.util.List.of() : rounds.stream().map(r -> ((Number) r).intValue()).toList();
  }

  /** The per-bank block of the job result. */
  JsonObject bankJson(String bank, OptionalDouble cap) {
    return new JsonObject().put("epsilon", recordEpsilon.get(bank)).put("bank_level_epsilon", bankEpsilon.get(bank))
        .put("cap", cap.isPresent() ? cap.getAsDouble() : null)
        .put("declined_rounds", declinedRounds.getOrDefault(bank, new JsonArray()).copy());
  }
}
