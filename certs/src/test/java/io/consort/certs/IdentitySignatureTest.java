package io.consort.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.identity.CertificateRejectedException;
import io.consort.identity.IdentitySigner;
import io.consort.identity.IdentityVerifier;
import io.consort.identity.KeyAlgorithm;
import io.consort.identity.PeerIdentity;
import io.consort.identity.Role;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SignatureException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IdentitySignatureTest {
  private static final byte[] MESSAGE = "consort/secagg/advertise-keys job=7 round=3".getBytes(StandardCharsets.UTF_8);
  private static final Set<Role> PARTICIPANTS = EnumSet.of(Role.PARTICIPANT);

  private Path dir;
  private DemoPki pki;
  private IdentityVerifier verifier;

  @BeforeAll
  void createPki(@TempDir Path tempDir) throws Exception {
    dir = tempDir;
    pki = DemoPki.create(dir.resolve("pki"), "coordinator", List.of("bank-1", "bank-2"));
    verifier = new IdentityVerifier(pki.validator());
  }

  @Test
  void verify_returnsSigner_whenSignatureMatchesCertificate() throws Exception {
    IdentitySigner signer = new IdentitySigner(PemFiles.readPrivateKey(pki.bank("bank-1").keyFile()));

    byte[] signature = signer.sign(MESSAGE);

    PeerIdentity signerIdentity = verifier.verify(certificate("bank-1"), MESSAGE, signature, PARTICIPANTS);
    assertEquals("bank-1", signerIdentity.name());
    assertEquals("SHA256withECDSA", signer.signatureAlgorithm());
    assertFalse(signer.toString().contains("PRIVATE"), signer.toString());
  }

  @Test
  void verify_refuses_whenSignedByDifferentKey() throws Exception {
    byte[] signature = new IdentitySigner(PemFiles.readPrivateKey(pki.bank("bank-2").keyFile())).sign(MESSAGE);

    SignatureException e = assertThrows(SignatureException.class,
        () -> verifier.verify(certificate("bank-1"), MESSAGE, signature, PARTICIPANTS));

    assertTrue(e.getMessage().contains("bank-1"), e.getMessage());
  }

  @Test
  void verify_refuses_whenMessageAltered() throws Exception {
    byte[] signature = new IdentitySigner(PemFiles.readPrivateKey(pki.bank("bank-1").keyFile())).sign(MESSAGE);
    byte[] altered = MESSAGE.clone();
    altered[altered.length - 1] ^= 1;

    assertThrows(SignatureException.class,
        () -> verifier.verify(certificate("bank-1"), altered, signature, PARTICIPANTS));
  }

  @Test
  void verify_refuses_whenSignatureBytesAreGarbage() throws Exception {
    assertThrows(SignatureException.class,
        () -> verifier.verify(certificate("bank-1"), MESSAGE, new byte[] {1, 2, 3}, PARTICIPANTS));
  }

  @Test
  void verify_refuses_whenSignerHasWrongRole() throws Exception {
    byte[] signature = new IdentitySigner(PemFiles.readPrivateKey(pki.coordinator().keyFile())).sign(MESSAGE);
    X509Certificate coordinator = PemFiles.readCertificate(pki.coordinator().certificateFile());

    CertificateRejectedException e = assertThrows(CertificateRejectedException.class,
        () -> verifier.verify(coordinator, MESSAGE, signature, PARTICIPANTS));

    assertEquals(CertificateRejectedException.Reason.WRONG_ROLE, e.reason());
  }

  @Test
  void signAndVerify_roundTrip_forRsaAndEd25519Keys() throws Exception {
    for (KeyAlgorithm algorithm : List.of(KeyAlgorithm.RSA_3072, KeyAlgorithm.ED25519)) {
      CertificateRequests.CertificateRequest request = CertificateRequests.create(
          dir.resolve(algorithm.cliName()), "bank-" + algorithm.cliName(), algorithm);
      X509Certificate certificate = pki.authority().sign(request.csr(), Role.PARTICIPANT, Duration.ofDays(1),
          List.of(), List.of());
      IdentitySigner signer = new IdentitySigner(PemFiles.readPrivateKey(request.keyFile()));

      byte[] signature = signer.sign(MESSAGE);

      assertEquals(algorithm.signatureAlgorithm(), signer.signatureAlgorithm());
      assertEquals(request.csr().getSubject().toString(), "CN=" + verifier.verify(certificate, MESSAGE,
          signature, PARTICIPANTS).name());
    }
  }

  private X509Certificate certificate(String bank) throws Exception {
    return PemFiles.readCertificate(pki.bank(bank).certificateFile());
  }
}
