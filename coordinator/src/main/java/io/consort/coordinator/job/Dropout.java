package io.consort.coordinator.job;

import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * A bank that was in a round but did not make it through a stage.
 *
 * @param bank the bank's id
 * @param stage the stage it was dropped at, in its command-line form ({@code train}, {@code masked-input}, ...)
 * @param reason why, for the operator
 */
public record Dropout(String bank, String stage, String reason) {
  public Dropout {
    Objects.requireNonNull(bank, "bank");
    Objects.requireNonNull(stage, "stage");
    Objects.requireNonNull(reason, "reason");
  }

  /** {@code bank@stage}, as round records and the demo's table show it. */
  public String label() {
    return bank + "@" + stage;
  }

  JsonObject toJson() {
    return new JsonObject().put("bank", bank).put("stage", stage).put("reason", reason);
  }

  static Dropout fromJson(JsonObject json) {
    return new Dropout(json.getString("bank"), json.getString("stage"), json.getString("reason"));
  }
}
