package io.consort.coordinator.job;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A round's entry in the privacy ledger, as the round record shows it.
 *
 * @param ledgerEntry the entry's sequence number
 * @param epsilon each bank's record-level epsilon total after this release
 * @param epsilonRound each bank's record-level epsilon of this release alone
 * @param bankEpsilon each bank's bank-level epsilon total, when bank-level DP is on
 * @param countersignedBy the banks whose countersignature verified and was stored
 */
public record Release(long ledgerEntry, Map<String, Double> epsilon, Map<String, Double> epsilonRound,
                      Map<String, Double> bankEpsilon, List<String> countersignedBy) {
  public Release {
    epsilon = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(epsilon));
    epsilonRound = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(epsilonRound));
    bankEpsilon = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(bankEpsilon));
    countersignedBy = List.copyOf(countersignedBy);
  }

  void putInto(JsonObject record) {
    if (!bankEpsilon.isEmpty()) {
      record.put("bank_epsilon", new JsonObject(new LinkedHashMap<>(bankEpsilon)));
    }
    record.put("ledger_entry", ledgerEntry).put("epsilon", new JsonObject(new LinkedHashMap<>(epsilon)))
        .put("epsilon_round", new JsonObject(new LinkedHashMap<>(epsilonRound)))
        .put("countersigned_by", new JsonArray(countersignedBy));
  }

  static Release fromJson(JsonObject record) {
    return new Release(record.getLong("ledger_entry"), doubles(record.getJsonObject("epsilon")),
        doubles(record.getJsonObject("epsilon_round")), doubles(record.getJsonObject("bank_epsilon")),
        strings(record.getJsonArray("countersigned_by")));
  }

  static Map<String, Double> doubles(JsonObject json) {
    Map<String, Double> out = new LinkedHashMap<>();
    if (json != null) {
      json.forEach(e -> out.put(e.getKey(), ((Number) e.getValue()).doubleValue()));
    }
    return out;
  }

  static List<String> strings(JsonArray json) {
    return json == null ? List.of() : json.stream().map(String::valueOf).toList();
  }
}
