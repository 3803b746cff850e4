/**
 * The Consort wire format: protobuf messages of package {@code consort.v1} (generated into
 * {@code io.consort.protocol.v1}) and the checks every receiver applies before trusting a
 * message: protocol version, message size, and header (job, round, stage). No transport: the
 * Vert.x gRPC stubs for the {@code Federation} service are generated from the same proto file by
 * the {@code consort-transport} module.
 */
package io.consort.protocol;
