/**
 * The Consort wire format: protobuf messages of package {@code consort.v1} (generated into
 * {@code io.consort.protocol.v1}), the Vert.x gRPC stubs, and the checks every receiver applies
 * before trusting a message: protocol version, message size, and header (job, round, stage).
 */
package io.consort.protocol;
