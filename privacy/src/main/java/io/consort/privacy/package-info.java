/**
 * Pure-Java differential privacy for Consort: parameter validation ({@link io.consort.privacy.DpPreconditions}),
 * the RDP accountant and noise calibration ({@code accounting}), noise samplers ({@code noise}), per-bank budgets
 * ({@code budget}) and the signed, hash-chained privacy ledger ({@code ledger}). Depends on no other Consort module
 * but {@code identity} (consort-identity: who a certificate names, in which role, and signatures with its key; JDK
 * and Bouncy Castle only), so that the ledger reads signers exactly as the rest of the consortium does.
 */
package io.consort.privacy;
