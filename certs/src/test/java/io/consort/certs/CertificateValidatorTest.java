package io.consort.certs;

import static io.consort.identity.CertificateRejectedException.Reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.identity.CertificateRejectedException;
import io.consort.identity.CertificateValidator;
import io.consort.identity.KeyAlgorithm;
import io.consort.identity.PeerIdentity;
import io.consort.identity.Role;
import io.consort.identity.RoleExtension;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.cert.CRLException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.EnumSet;
import java.util.List;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CertificateValidatorTest {
  private Path dir;
  private DemoPki pki;
  private X509Certificate bank;

  @BeforeAll
  void createPki(@TempDir Path tempDir) throws Exception {
    dir = tempDir;
    pki = DemoPki.create(dir.resolve("consortium"), "coordinator", List.of("bank-1", "bank-2"));
    bank = PemFiles.readCertificate(pki.bank("bank-1").certificateFile());
  }

  @Test
  void validate_acceptsConsortiumChain_andReturnsIdentity() throws Exception {
    List<X509Certificate> chain = PemFiles.readCertificates(pki.bank("bank-1").chainFile());

    PeerIdentity identity = pki.validator().validate(chain, EnumSet.of(Role.PARTICIPANT, Role.AUDITOR));

    assertEquals(new PeerIdentity("bank-1", Role.PARTICIPANT, bank.getSerialNumber()), identity);
    assertEquals(identity, PeerIdentity.fromCertificate(bank));
  }

  @Test
  void validate_refusesCertificate_fromAnotherCa() throws Exception {
    DemoPki foreign = DemoPki.createForeign(dir.resolve("foreign"), List.of("bank-1"));
    X509Certificate stranger = PemFiles.readCertificate(foreign.bank("bank-1").certificateFile());

    CertificateRejectedException e = rejected(Reason.UNTRUSTED_ISSUER,
        () -> pki.validator().validate(stranger, Role.PARTICIPANT));

    assertTrue(e.getMessage().contains("CN=bank-1") && e.getMessage().contains("CN=foreign-root"), e.getMessage());
  }

  @Test
  void validate_refusesCertificate_fromImpostorCaWithSameName() throws Exception {
    CertificateAuthority impostor = CertificateAuthority.init(dir.resolve("impostor"), "consort-demo-root",
        KeyAlgorithm.EC_P256, Duration.ofDays(30));
    X509Certificate forged = impostor.sign(CertificateRequests.create(dir.resolve("impostor-bank"), "bank-1",
        KeyAlgorithm.EC_P256).csr(), Role.PARTICIPANT, Duration.ofDays(1), List.of(), List.of());

    CertificateRejectedException e = rejected(Reason.UNTRUSTED_ISSUER,
        () -> pki.validator().validate(forged, Role.PARTICIPANT));

    assertTrue(e.getMessage().contains("signature does not verify"), e.getMessage());
  }

  @Test
  void validate_refusesCertificate_whenExpired() throws Exception {
    Instant twoYearsAgo = Instant.now().minus(Duration.ofDays(730));
    Path caDir = dir.resolve("past-ca");
    CertificateAuthority.init(caDir, "past-root", KeyAlgorithm.EC_P256, Duration.ofDays(3650),
        Clock.fixed(twoYearsAgo, ZoneOffset.UTC));
    CertificateAuthority pastCa = CertificateAuthority.load(caDir, Clock.fixed(twoYearsAgo, ZoneOffset.UTC));
    X509Certificate expired = pastCa.sign(CertificateRequests.create(dir.resolve("past-bank"), "bank-1",
        KeyAlgorithm.EC_P256).csr(), Role.PARTICIPANT, Duration.ofDays(30), List.of(), List.of());
    X509Certificate caCertificate = pastCa.certificate();
    CertificateValidator validator = new CertificateValidator(caCertificate, null);

    CertificateRejectedException e = rejected(Reason.EXPIRED, () -> validator.validate(expired, Role.PARTICIPANT));

    assertTrue(e.getMessage().contains("CN=bank-1") && e.getMessage().contains("expired at"), e.getMessage());
  }

  @Test
  void validate_refusesCertificate_whenNotYetValid() throws Exception {
    CertificateValidator validator = new CertificateValidator(pki.authority().certificate(), null,
        Clock.fixed(bank.getNotBefore().toInstant().minusSeconds(3600), ZoneOffset.UTC));

    rejected(Reason.NOT_YET_VALID, () -> validator.validate(bank, Role.PARTICIPANT));
  }

  @Test
  void validate_refusesCertificate_whenRevoked() throws Exception {
    DemoPki local = DemoPki.create(dir.resolve("revocation"), "coordinator", List.of("bank-1", "bank-2"));
    X509Certificate revokedBank = PemFiles.readCertificate(local.bank("bank-1").certificateFile());
    CertificateValidator before = local.validator();

    local.revokeAndPublish("bank-1", RevocationReason.KEY_COMPROMISE);
    CertificateValidator after = local.coordinator().validator();

    assertEquals("bank-1", before.validate(revokedBank, Role.PARTICIPANT).name());
    CertificateRejectedException e = rejected(Reason.REVOKED, () -> after.validate(revokedBank, Role.PARTICIPANT));
    assertTrue(e.getMessage().contains("revoked at") && e.getMessage().contains("KEY_COMPROMISE"), e.getMessage());
    assertEquals("bank-2", after.validate(PemFiles.readCertificate(local.bank("bank-2").certificateFile()),
        Role.PARTICIPANT).name());
  }

  @Test
  void validate_refusesCertificate_whenRoleWrong_namingBothRoles() throws Exception {
    X509Certificate auditor = PemFiles.readCertificate(pki.auditor().certificateFile());

    CertificateRejectedException e = rejected(Reason.WRONG_ROLE,
        () -> pki.validator().validate(auditor, EnumSet.of(Role.PARTICIPANT, Role.COORDINATOR)));

    assertTrue(e.getMessage().contains("has role 'auditor' but one of coordinator, participant is required"),
        e.getMessage());
  }

  @Test
  void validate_refusesBankNameEnrolledWithAuditorRole_whenParticipantRequired() throws Exception {
    DemoPki local = DemoPki.create(dir.resolve("wrong-role"), "coordinator", List.of("bank-1"));
    TlsMaterial sneaky = local.enrol("bank-9", Role.AUDITOR, dir.resolve("wrong-role/sneaky"), List.of(), List.of());
    X509Certificate certificate = PemFiles.readCertificate(sneaky.certificateFile());

    CertificateRejectedException e = rejected(Reason.WRONG_ROLE,
        () -> local.validator().validate(certificate, Role.PARTICIPANT));

    assertTrue(e.getMessage().contains("'auditor' but 'participant' is required"), e.getMessage());
  }

  @Test
  void validate_refusesCertificate_whenTampered() throws Exception {
    String pemText = new String(bank.getEncoded(), StandardCharsets.ISO_8859_1).replace("bank-1", "bank-2");
    X509Certificate tampered = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
        new ByteArrayInputStream(pemText.getBytes(StandardCharsets.ISO_8859_1)));
    assertEquals("bank-2", PeerIdentity.fromCertificate(tampered).name());

    CertificateRejectedException e = rejected(Reason.UNTRUSTED_ISSUER,
        () -> pki.validator().validate(tampered, Role.PARTICIPANT));

    assertTrue(e.getMessage().contains("CN=bank-2"), e.getMessage());
  }

  @Test
  void validate_refusesTamperedCertificate_everyTime_afterTheGenuineOneWasAccepted() throws Exception {
    // the genuine certificate's verified signature is remembered; the tampered bytes are not the same
    assertEquals("bank-1", pki.validator().validate(bank, Role.PARTICIPANT).name());
    String pemText = new String(bank.getEncoded(), StandardCharsets.ISO_8859_1).replace("bank-1", "bank-2");
    X509Certificate tampered = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
        new ByteArrayInputStream(pemText.getBytes(StandardCharsets.ISO_8859_1)));

    for (int attempt = 0; attempt < 2; attempt++) {
      rejected(Reason.UNTRUSTED_ISSUER, () -> pki.validator().validate(tampered, Role.PARTICIPANT));
    }
    assertEquals("bank-1", pki.validator().validate(bank, Role.PARTICIPANT).name());
  }

  @Test
  void validate_refusesCertificate_underAnImpostorCaWithTheSameName_afterTheRealCaAcceptedIt() throws Exception {
    assertEquals("bank-1", pki.validator().validate(bank, Role.PARTICIPANT).name());
    CertificateAuthority impostor = CertificateAuthority.init(dir.resolve("impostor-anchor"), "consort-demo-root",
        KeyAlgorithm.EC_P256, Duration.ofDays(30));
    CertificateValidator underImpostor = new CertificateValidator(impostor.certificate(), null);

    // the remembered signature is the real CA's over these bytes, not the impostor's
    CertificateRejectedException e = rejected(Reason.UNTRUSTED_ISSUER,
        () -> underImpostor.validate(bank, Role.PARTICIPANT));
    assertTrue(e.getMessage().contains("signature does not verify"), e.getMessage());
  }

  @Test
  void validate_refusesCertificate_whenRoleExtensionMissing() throws Exception {
    X509Certificate noRole = TestCertificates.issueRaw(pki.authority().directory(),
        "CN=bank-7, OU=participant, O=consort-demo-root", null);

    CertificateRejectedException e = rejected(Reason.MISSING_ROLE,
        () -> pki.validator().validate(noRole, Role.PARTICIPANT));

    assertTrue(e.getMessage().contains(RoleExtension.OID), e.getMessage());
  }

  @Test
  void validate_refusesCertificate_whenOuDisagreesWithRoleExtension() throws Exception {
    X509Certificate mismatched = TestCertificates.issueRaw(pki.authority().directory(),
        "CN=bank-7, OU=coordinator, O=consort-demo-root", Role.PARTICIPANT);

    CertificateRejectedException e = rejected(Reason.MALFORMED,
        () -> pki.validator().validate(mismatched, Role.PARTICIPANT));

    assertTrue(e.getMessage().contains("OU 'coordinator' disagrees"), e.getMessage());
  }

  @Test
  void fromCertificate_refusesIdentity_whenOuDisagreesWithRoleExtension() throws Exception {
    // what FederationEndpoint and OperatorApi read after TLS: the OU alone never makes a role
    X509Certificate mismatched = TestCertificates.issueRaw(pki.authority().directory(),
        "CN=bank-7, OU=participant, O=consort-demo-root", Role.COORDINATOR);

    CertificateRejectedException e = rejected(Reason.MALFORMED, () -> PeerIdentity.fromCertificate(mismatched));

    assertTrue(e.getMessage().contains("OU 'participant' disagrees with the role extension 'coordinator'"),
        e.getMessage());
  }

  @Test
  void validate_refusesCertificate_whenKeyIsNotOnP256() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp384r1"));
    X509Certificate p384 = TestCertificates.issueRaw(pki.authority().directory(),
        "CN=bank-7, OU=participant, O=consort-demo-root", Role.PARTICIPANT, generator.generateKeyPair(), null);

    CertificateRejectedException e = rejected(Reason.MALFORMED, () -> pki.validator().validate(p384, Role.PARTICIPANT));

    assertTrue(e.getMessage().contains("only P-256 is accepted"), e.getMessage());
  }

  @Test
  void validate_refusesCertificate_whenKeyUsageForbidsSignatures() throws Exception {
    X509Certificate encipherOnly = TestCertificates.issueRaw(pki.authority().directory(),
        "CN=bank-7, OU=participant, O=consort-demo-root", Role.PARTICIPANT, KeyAlgorithm.EC_P256.generateKeyPair(),
        KeyUsage.keyAgreement);

    CertificateRejectedException e = rejected(Reason.MALFORMED,
        () -> pki.validator().validate(encipherOnly, Role.PARTICIPANT));

    assertTrue(e.getMessage().contains("does not allow digitalSignature"), e.getMessage());
  }

  @Test
  void validate_refusesCaCertificate_presentedAsMember() throws Exception {
    rejected(Reason.MALFORMED, () -> pki.validator().validate(pki.authority().certificate(), Role.PARTICIPANT));
  }

  @Test
  void validate_refusesEverything_whenCrlPastNextUpdate() throws Exception {
    Instant later = pki.authority().currentCrl().getNextUpdate().toInstant().plusSeconds(1);
    CertificateValidator stale = new CertificateValidator(pki.authority().certificate(),
        pki.authority().currentCrl(), Clock.fixed(later, ZoneOffset.UTC));

    CertificateRejectedException e = rejected(Reason.CRL_UNUSABLE, () -> stale.validate(bank, Role.PARTICIPANT));

    assertTrue(e.getMessage().contains("CRL expired"), e.getMessage());
  }

  @Test
  void constructor_refusesCrl_fromAnotherCa() throws Exception {
    DemoPki foreign = DemoPki.createForeign(dir.resolve("foreign-crl"), List.of("bank-1"));

    CRLException e = assertThrows(CRLException.class,
        () -> new CertificateValidator(pki.authority().certificate(), foreign.authority().currentCrl()));

    assertTrue(e.getMessage().contains("CN=foreign-root"), e.getMessage());
  }

  private static CertificateRejectedException rejected(Reason reason, Executable validation) {
    CertificateRejectedException e = assertThrows(CertificateRejectedException.class, validation);
    assertEquals(reason, e.reason(), e.getMessage());
    return e;
  }
}
