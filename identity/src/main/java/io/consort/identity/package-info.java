/**
 * Consortium certificate identity, in one place: who a member certificate names and in which role
 * ({@link io.consort.identity.PeerIdentity#fromCertificate}: subject CN, and the role from the
 * private {@link io.consort.identity.RoleExtension}, with the subject OU required to agree), whether
 * the pinned consortium CA vouches for it ({@link io.consort.identity.CertificateValidator}), which
 * signature algorithm a key fixes ({@link io.consort.identity.KeyAlgorithm}), and signatures made
 * and checked with a member's key ({@link io.consort.identity.IdentitySigner},
 * {@link io.consort.identity.IdentityVerifier}).
 *
 * <p>Why a module of its own: three modules need these answers and must give the same ones. The
 * PKI ({@code certs}) issues and serves certificates; secure aggregation ({@code secagg}) signs
 * and checks key advertisements; the privacy ledger ({@code privacy}) signs entries and checks an
 * exported ledger offline. Before, {@code privacy} read the role from the subject OU while
 * {@code certs} read the role extension, so a certificate could be a participant to one and a
 * coordinator to the other, and each picked signature algorithms on its own. {@code secagg} and
 * {@code privacy} are pure libraries that must not depend on {@code certs} (files, a CA, TLS
 * contexts), and an interface injected into {@code privacy} would still have needed a second
 * implementation for the offline auditor and {@code secagg}'s simulation. So the identity rules
 * live here, depended on by {@code certs}, {@code secagg} and {@code privacy} alike.
 *
 * <p>Only the JDK and Bouncy Castle's {@code bcprov} (its ASN.1 classes, and its lightweight ECDSA with
 * RFC 6979 nonces and P-256 arithmetic, which sign and verify P-256 identity signatures): no files, no PEM, no
 * network, no JCA provider registered globally. Issuing, revoking, PEM files and TLS material stay
 * in {@code io.consort.certs}. See {@code docs/PKI.md}.
 */
package io.consort.identity;
