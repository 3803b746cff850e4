/**
 * The Consort coordinator: a Vert.x service that admits member banks by certificate, runs a
 * federated job's rounds (offer, federated feature statistics, local training, aggregation,
 * federated evaluation) and keeps durable state. Verticles stay thin: domain objects are plain,
 * and blocking work (database, large vector arithmetic) runs on worker threads.
 */
package io.consort.coordinator;
