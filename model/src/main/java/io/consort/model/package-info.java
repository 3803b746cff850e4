/**
 * Consort's models and data, in plain Java: no DL4J/ND4J (that side is the consort-model-dl4j
 * module), and of Consort's modules only the protocol's messages, for the wire mapping.
 *
 * <ul>
 *   <li>{@link io.consort.model.data}: schema-driven CSV/ARFF loading into a {@code Table}, data
 *       splitting for simulations, the bundled German credit set and a synthetic bank-data
 *       generator;</li>
 *   <li>{@link io.consort.model.features}: federated feature encoding: each bank computes
 *       {@code LocalFeatureStats}, the coordinator merges them into one {@code FeatureEncoding}
 *       that every bank applies identically;</li>
 *   <li>{@link io.consort.model.train}: model specifications, DL4J-compatible flat parameters and
 *       their initialisation, the local trainer, the native kernel and record-level DP-SGD;
 *       {@link io.consort.model.train.spi} lets other modules add training engines;</li>
 *   <li>{@link io.consort.model.eval}: federated evaluation through mergeable score histograms;</li>
 *   <li>{@link io.consort.model.random}: reproducible randomness for public uses;</li>
 *   <li>{@link io.consort.model.wire}: mapping to and from the {@code consort.v1} messages.</li>
 * </ul>
 */
package io.consort.model;
