package io.consort.coordinator.job;

import io.consort.protocol.v1.ModelParameters;
import io.consort.spec.JobSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The result of a finished job: a JSON summary (banks, rounds, final model, privacy per bank, final
 * metrics) and the final model, written atomically next to each other so that a crash never
 * leaves a half-written result.
 */
final class JobResultWriter {
  private final Path resultFile;

  JobResultWriter(Path resultFile) {
    this.resultFile = resultFile;
  }

  Path resultFile() {
    return resultFile;
  }

  Optional<JsonObject> existing() throws IOException {
    return Files.exists(resultFile) ? Optional.of(new JsonObject(Files.readString(resultFile))) : Optional.empty();
  }

  static JsonObject result(JobSpec spec, Collection<BankRecord> banks, List<String> participants,
                           List<RoundRecord> rounds, ModelParameters model, PrivacyTotals privacy,
                           Optional<ModelOps.Metrics> finalMetrics) {
    JsonObject result = new JsonObject().put("job_id", spec.id()).put("status", "completed")
        .put("banks", new JsonArray(banks.stream().map(BankRecord::toJson).toList()))
        .put("rounds", new JsonArray(rounds.stream().map(RoundRecord::toJson).toList()))
        .put("model", new JsonObject().put("sha256", model.getSha256()).put("parameters", model.getValuesCount())
            .put("version", model.getVersion()));
    Map<String, BankRecord> byId = new java.util.LinkedHashMap<>();
    banks.forEach(b -> byId.put(b.id(), b));
    JsonObject perBank = new JsonObject();
    for (String bank : participants) {
      perBank.put(bank, privacy.bankJson(bank, byId.get(bank).epsilonCap()));
    }
    result.put("privacy", new JsonObject().put("unit", spec.privacy().mode().wireName())
        .put("delta", spec.privacy().delta()).put("per_bank", perBank));
    finalMetrics.ifPresent(m -> {
      JsonObject last = new JsonObject();
      m.putInto(last);
      last.remove("examples");
      result.put("final", last);
    });
    return result;
  }

  /** Writes the final model and then the result; blocking. */
  void write(String jobId, JsonObject result, ModelParameters model) throws IOException {
    Files.createDirectories(resultFile.toAbsolutePath().getParent());
    writeAtomically(resultFile.resolveSibling(jobId + "-final-model.pb"), model.toByteArray());
    writeAtomically(resultFile, result.encodePrettily().getBytes(StandardCharsets.UTF_8));
  }

  private static void writeAtomically(Path target, byte[] bytes) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.write(tmp, bytes);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
