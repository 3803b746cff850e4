package io.consort.secagg.message;

/**
 * A secure-aggregation protocol message. Client-to-coordinator messages are {@link AdvertiseKeys},
 * {@link ShareKeys}, {@link MaskedInput}, {@link ConsistencySignature} and {@link UnmaskingResponse};
 * coordinator-to-client messages are {@link KeyRoster}, {@link ForwardedShares},
 * {@link ConsistencyRequest} and {@link UnmaskingRequest}. Encode with
 * {@link io.consort.secagg.wire.SecAggCodec}.
 *
 * <p>Byte and int arrays inside messages are not copied, for speed with large vectors: a message
 * must not be modified after it is built.
 */
public sealed interface SecAggMessage
        permits AdvertiseKeys, KeyRoster, ShareKeys, ForwardedShares, MaskedInput, ConsistencyRequest,
        ConsistencySignature, UnmaskingRequest, UnmaskingResponse {
    MessageHeader header();
}
