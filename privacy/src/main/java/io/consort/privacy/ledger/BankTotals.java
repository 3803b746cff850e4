package io.consort.privacy.ledger;

/**
 * A bank's totals over a verified ledger.
 *
 * @param bankId the bank
 * @param releases entries the bank took part in
 * @param recordEpsilon record-level epsilon over all its releases, null if never DP-protected
 * @param bankEpsilon bank-level epsilon, null if never DP-protected at bank level
 * @param delta delta of the last entry the bank took part in
 */
public record BankTotals(String bankId, int releases, Double recordEpsilon, Double bankEpsilon, double delta) {}
