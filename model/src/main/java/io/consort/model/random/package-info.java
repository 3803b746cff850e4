/**
 * Reproducible randomness for public, non-secret uses (the initial global model, demo data splits,
 * synthetic data): {@link io.consort.model.random.ReproducibleRandom}. Everything a bank must keep
 * unpredictable (shuffles, DP-SGD sampling, noise) draws from {@link java.security.SecureRandom}; in
 * bulk from {@link io.consort.model.random.BulkSecureRandom}, AES-256-CTR with fast key erasure keyed
 * from the JDK's DRBG.
 */
package io.consort.model.random;
