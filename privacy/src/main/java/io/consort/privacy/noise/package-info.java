/**
 * Noise samplers. Production randomness is always {@link java.security.SecureRandom}; each sampler takes
 * one through its constructor so tests can inject a deterministic, seeded {@code SecureRandom} (for
 * example {@code SHA1PRNG} seeded before first use). Nothing here uses {@code java.util.Random}.
 */
package io.consort.privacy.noise;
