/**
 * Federated evaluation: each bank scores its own held-out rows and releases only a
 * {@link io.consort.model.eval.ScoreHistogram} (per-class counts in fine score bins, a log-loss sum
 * and a correct count); merged histograms give consortium-wide AUC, accuracy and log-loss through
 * {@link io.consort.model.eval.GlobalMetrics}. {@link io.consort.model.eval.ExactMetrics} computes
 * the same from raw scores for baselines and tests.
 */
package io.consort.model.eval;
