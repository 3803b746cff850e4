/**
 * Federated feature encoding. Each bank computes {@link io.consort.model.features.LocalFeatureStats}
 * (counts, sums and sums of squares per numeric column; counts per category) on its own rows; the
 * coordinator merges them with {@link io.consort.model.features.FeatureEncoding#merge} into one
 * encoding (means, population standard deviations, category lists) that every bank then applies
 * with {@link io.consort.model.features.FeatureEncoding#encode}, so equal rows give equal vectors
 * everywhere. Nothing else about a bank's rows is needed.
 */
package io.consort.model.features;
