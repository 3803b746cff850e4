package io.consort.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.consort.identity.CertificateRejectedException;
import io.consort.identity.CertificateValidator;
import io.consort.identity.Role;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A long-running party sees a re-issued CRL at its next check, and a broken file does not lift revocations. */
class CrlFileValidatorTest {
  @TempDir
  Path dir;

  @Test
  void revocationPublishedAfterOpening_isEnforcedAtTheNextCheck_andSurvivesACorruptedFile() throws Exception {
    DemoPki pki = DemoPki.create(dir, "coordinator", List.of("bank-1", "bank-2"));
    TlsMaterial bank1 = pki.bank("bank-1");
    Supplier<CertificateValidator> validators = CrlFileValidator.open(bank1.caFile(), bank1.crlFile());
    X509Certificate bank2 = PemFiles.readCertificates(pki.bank("bank-2").chainFile()).get(0);
    assertEquals("bank-2", validators.get().validate(bank2, Role.PARTICIPANT).name());

    pki.revokeAndPublish("bank-2", RevocationReason.KEY_COMPROMISE);

    CertificateRejectedException revoked = assertThrows(CertificateRejectedException.class,
        () -> validators.get().validate(bank2, Role.PARTICIPANT));
    assertEquals(CertificateRejectedException.Reason.REVOKED, revoked.reason());
    Files.writeString(bank1.crlFile(), "not a CRL");
    assertThrows(CertificateRejectedException.class, () -> validators.get().validate(bank2, Role.PARTICIPANT));
  }
}
