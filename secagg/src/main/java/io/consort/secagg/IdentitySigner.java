package io.consort.secagg;

import java.security.GeneralSecurityException;

/**
 * Signs with the bank's long-term identity key (in production: the private key of its consortium
 * X.509 certificate, SHA256withECDSA on P-256). Used to bind the round's secure-aggregation public
 * keys to the bank's identity (Bonawitz et al. 2017, section 6.3, the actively secure variant), so the
 * coordinator cannot substitute keys and impersonate a bank to its peers.
 */
@FunctionalInterface
public interface IdentitySigner {
    byte[] sign(byte[] message) throws GeneralSecurityException;
}
