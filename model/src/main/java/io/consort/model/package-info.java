/**
 * Consort's models and data, with no dependency on any other Consort module.
 *
 * <ul>
 *   <li>{@link io.consort.model.data}: schema-driven CSV/ARFF loading into a {@code Table}, data
 *       splitting for simulations, the bundled German credit set and a synthetic bank-data
 *       generator;</li>
 *   <li>{@link io.consort.model.features}: federated feature encoding: each bank computes
 *       {@code LocalFeatureStats}, the coordinator merges them into one {@code FeatureEncoding}
 *       that every bank applies identically;</li>
 *   <li>{@link io.consort.model.train}: model specifications, DL4J-compatible flat parameters,
 *       the local trainer and record-level DP-SGD;</li>
 *   <li>{@link io.consort.model.eval}: federated evaluation through mergeable score histograms.</li>
 * </ul>
 */
package io.consort.model;
