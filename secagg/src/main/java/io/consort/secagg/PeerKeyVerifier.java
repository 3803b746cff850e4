package io.consort.secagg;

import java.security.GeneralSecurityException;

/**
 * Checks a signature made by a bank's identity key. In production this is backed by the consortium
 * PKI (certificate chain to the pinned CA, not revoked, subject matches {@code bankId}).
 */
@FunctionalInterface
public interface PeerKeyVerifier {
    /**
     * @throws GeneralSecurityException if the signature is invalid or {@code bankId} is unknown
     */
    void verify(String bankId, byte[] message, byte[] signature) throws GeneralSecurityException;
}
