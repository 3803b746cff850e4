package io.consort.coordinator.job;

import io.vertx.core.json.JsonObject;

/**
 * The bank-level noise actually present in a round's secure sum: only the survivors' discrete
 * Gaussian shares, which is what the ledger accounts.
 *
 * @param perBankSigma each bank's share, in quantised units
 * @param survivors banks whose shares are in the sum
 * @param clipNorm the secure-aggregation clip, the sensitivity before quantisation
 * @param l2Sensitivity L2 sensitivity of the quantised sum to one bank
 * @param dimension the model's parameter count
 * @param targetNoiseMultiplier z of the summed noise the job planned for, if every bank survived
 */
public record BankNoise(double perBankSigma, int survivors, double clipNorm, double l2Sensitivity, long dimension,
                        double targetNoiseMultiplier) {
  JsonObject toJson() {
    return new JsonObject().put("per_bank_sigma", perBankSigma).put("survivors", survivors).put("clip_norm", clipNorm)
        .put("l2_sensitivity", l2Sensitivity).put("dimension", dimension)
        .put("target_noise_multiplier", targetNoiseMultiplier);
  }

  static BankNoise fromJson(JsonObject j) {
    return new BankNoise(j.getDouble("per_bank_sigma"), j.getInteger("survivors"), j.getDouble("clip_norm"),
        j.getDouble("l2_sensitivity"), j.getLong("dimension"), j.getDouble("target_noise_multiplier"));
  }
}
