/**
 * The consortium PKI: one root CA ({@link io.consort.certs.CertificateAuthority}) issues
 * role-bearing certificates to the coordinator, each member bank, the operator and auditors from
 * PKCS#10 requests made where the key lives ({@link io.consort.certs.CertificateRequests}); revokes
 * them through a CRL; and checks them at the application level
 * ({@link io.consort.identity.CertificateValidator}) on top of mutual TLS
 * ({@link io.consort.certs.TlsMaterial}). The same identities sign secure-aggregation keys and
 * ledger entries ({@link io.consort.identity.IdentitySigner}, {@link io.consort.identity.IdentityVerifier}).
 *
 * <p>Only JDK and Bouncy Castle primitives; keys are JDK (SunEC/SunRsaSign) keys so the JDK TLS
 * stack accepts them; no JCA provider is registered globally. See {@code docs/PKI.md}.
 */
package io.consort.certs;
