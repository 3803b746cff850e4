/**
 * The privacy ledger: one entry per release, hash-chained (SHA-256), signed by the coordinator and
 * countersigned by each bank for its own spend; JSON export with a format name and version; offline
 * verification against the consortium CA; a bank's local copy; a per-bank report and SVG chart. Signers
 * are read, validated and checked with {@code io.consort.identity}, as everywhere else in Consort. The
 * canonical byte encoding that is hashed and signed is specified in {@link io.consort.privacy.ledger.CanonicalEncoding}
 * and in docs/PRIVACY.md.
 */
package io.consort.privacy.ledger;
