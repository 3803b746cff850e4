/**
 * Pure-Java differential privacy for Consort: parameter validation ({@link io.consort.privacy.DpPreconditions}),
 * the RDP accountant and noise calibration ({@code accounting}), noise samplers ({@code noise}), per-bank budgets
 * ({@code budget}) and the signed, hash-chained privacy ledger ({@code ledger}). Depends on no other Consort module.
 */
package io.consort.privacy;
