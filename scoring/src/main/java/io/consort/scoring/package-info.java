/**
 * From a federated model to a bank's decision, in plain Java (no Vert.x, no DL4J): the published
 * model file ({@link io.consort.scoring.PublishedModelFile}: versioned, checksummed, carrying schema,
 * encoding, parameters, calibration, decision rule and provenance) and the thread-safe {@link
 * io.consort.scoring.Scorer} that turns a bank's row into a calibrated probability of default, a
 * decision and its reason codes.
 */
package io.consort.scoring;
