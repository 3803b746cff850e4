/**
 * Reproducible randomness for public, non-secret uses (the initial global model, demo data splits,
 * synthetic data): {@link io.consort.model.random.ReproducibleRandom}. Everything a bank must keep
 * unpredictable (shuffles, DP-SGD sampling, noise) draws from {@link java.security.SecureRandom}.
 */
package io.consort.model.random;
