package io.consort.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.identity.KeyAlgorithm;
import io.consort.identity.Role;
import io.consort.identity.RoleExtension;
import java.math.BigInteger;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.InvalidKeyException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SignatureException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class CertificateAuthorityTest {
  private static final Duration YEAR = Duration.ofDays(365);

  @TempDir
  Path dir;

  private CertificateAuthority ca;

  @BeforeEach
  void createCa() throws Exception {
    ca = CertificateAuthority.init(dir.resolve("ca"), "consortium-root", KeyAlgorithm.EC_P256, Duration.ofDays(3650));
  }

  @Test
  void init_writesCaPemFiles_withOwnerOnlyKey() throws Exception {
    Path caDir = dir.resolve("ca");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(caDir.resolve("ca.key.pem"))));
    assertTrue(Files.readString(caDir.resolve("ca.key.pem")).startsWith("-----BEGIN PRIVATE KEY-----"));
    X509Certificate root = PemFiles.readCertificate(caDir.resolve("ca.crt.pem"));
    assertEquals("CN=consortium-root", root.getSubjectX500Principal().getName());
    assertEquals(0, root.getBasicConstraints()); // CA:true, pathlen 0
    boolean[] keyUsage = root.getKeyUsage();
    assertTrue(keyUsage[5] && keyUsage[6], "keyCertSign and cRLSign");
    assertFalse(keyUsage[0], "no digitalSignature");
    root.verify(root.getPublicKey());
    assertEquals(BigInteger.ONE, CertificateAuthority.crlNumber(PemFiles.readCrl(caDir.resolve("crl.pem"))));
    assertTrue(ca.list().isEmpty());
  }

  @Test
  void init_refuses_whenCaAlreadyExists() {
    FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class, () -> CertificateAuthority.init(
        dir.resolve("ca"), "other", KeyAlgorithm.EC_P256, Duration.ofDays(10)));
    assertTrue(e.getMessage().contains("a CA already exists"), e.getMessage());
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void sign_issuesCertificateWithNameRoleAndSans_forEachRole(Role role) throws Exception {
    PKCS10CertificationRequest csr = CertificateRequests.create(dir.resolve("member"), "bank-a", KeyAlgorithm.EC_P256).csr();

    X509Certificate issued = ca.sign(csr, role, YEAR, List.of("localhost"), List.of("127.0.0.1"));

    assertEquals("CN=bank-a,OU=" + role.wireName() + ",O=consortium-root", issued.getSubjectX500Principal().getName());
    assertEquals(role, RoleExtension.read(issued).orElseThrow());
    assertTrue(issued.getNonCriticalExtensionOIDs().contains(RoleExtension.OID));
    assertEquals(List.of(List.of(2, "localhost"), List.of(7, "127.0.0.1"), List.of(6, "consort:" + role.wireName() + ":bank-a")),
        sans(issued.getSubjectAlternativeNames()));
    assertEquals(-1, issued.getBasicConstraints());
    assertTrue(issued.getKeyUsage()[0] && issued.getKeyUsage()[4], "digitalSignature and keyAgreement");
    List<String> eku = issued.getExtendedKeyUsage();
    assertTrue(eku.contains(KeyPurposeId.id_kp_clientAuth.getId()));
    assertEquals(role == Role.COORDINATOR, eku.contains(KeyPurposeId.id_kp_serverAuth.getId()));
    int serialBits = issued.getSerialNumber().bitLength();
    assertTrue(serialBits > 64 && serialBits <= 128, "128 random bits, leading zeros allowed: " + serialBits);
    assertTrue(issued.getSerialNumber().signum() > 0);
    issued.verify(ca.certificate().getPublicKey());

    IssuedCertificate entry = ca.list().get(0);
    assertEquals(issued.getSerialNumber(), entry.serial());
    assertEquals("bank-a", entry.name());
    assertEquals(role, entry.role());
    assertEquals(issued.getNotAfter().toInstant(), entry.notAfter());
    assertEquals(IssuedCertificate.Status.VALID, entry.status(java.time.Instant.now()));
    assertEquals(issued, PemFiles.readCertificate(dir.resolve("ca/issued/" + entry.serialHex() + ".crt.pem")));
  }

  @Test
  void sign_refusesCsr_whenSignatureInvalid() throws Exception {
    PKCS10CertificationRequest good = CertificateRequests.create(dir.resolve("member"), "bank-a", KeyAlgorithm.EC_P256).csr();
    byte[] signature = good.getSignature().clone();
    signature[signature.length - 5] ^= 0x01;
    PKCS10CertificationRequest forged = new PKCS10CertificationRequest(new org.bouncycastle.asn1.pkcs.CertificationRequest(
        good.toASN1Structure().getCertificationRequestInfo(), good.getSignatureAlgorithm(), new DERBitString(signature)));

    SignatureException e = assertThrows(SignatureException.class,
        () -> ca.sign(forged, Role.PARTICIPANT, YEAR, List.of(), List.of()));

    assertTrue(e.getMessage().contains("CN=bank-a"), e.getMessage());
    assertTrue(ca.list().isEmpty());
  }

  @Test
  void sign_refusesCsr_whenNameIsNotAnIdentityName() throws Exception {
    KeyPair keys = KeyAlgorithm.EC_P256.generateKeyPair();
    PKCS10CertificationRequest csr = TestCertificates.csr("Bank_A", keys, "SHA256withECDSA");

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ca.sign(csr, Role.PARTICIPANT, YEAR, List.of(), List.of()));

    assertTrue(e.getMessage().contains("'Bank_A'"), e.getMessage());
  }

  @Test
  void sign_refusesCsr_whenRsaKeyTooWeak() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(1024);
    PKCS10CertificationRequest csr = TestCertificates.csr("bank-a", generator.generateKeyPair(), "SHA256withRSA");

    InvalidKeyException e = assertThrows(InvalidKeyException.class,
        () -> ca.sign(csr, Role.PARTICIPANT, YEAR, List.of(), List.of()));

    assertTrue(e.getMessage().contains("1024 bits is too weak"), e.getMessage());
  }

  @Test
  void sign_refusesCsr_whenCurveUnsupported() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp384r1"));
    PKCS10CertificationRequest csr = TestCertificates.csr("bank-a", generator.generateKeyPair(), "SHA384withECDSA");

    InvalidKeyException e = assertThrows(InvalidKeyException.class,
        () -> ca.sign(csr, Role.PARTICIPANT, YEAR, List.of(), List.of()));

    assertTrue(e.getMessage().contains("unsupported curve"), e.getMessage());
  }

  @Test
  void sign_refuses_whenValidityOutlivesCa() throws Exception {
    PKCS10CertificationRequest csr = CertificateRequests.create(dir.resolve("member"), "bank-a", KeyAlgorithm.EC_P256).csr();

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ca.sign(csr, Role.PARTICIPANT, Duration.ofDays(4000), List.of(), List.of()));

    assertTrue(e.getMessage().contains("after the CA certificate expires"), e.getMessage());
  }

  @Test
  void sign_refuses_whenIpAddressInvalid() throws Exception {
    PKCS10CertificationRequest csr = CertificateRequests.create(dir.resolve("member"), "bank-a", KeyAlgorithm.EC_P256).csr();

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ca.sign(csr, Role.COORDINATOR, YEAR, List.of(), List.of("999.1.1.1")));

    assertTrue(e.getMessage().contains("'999.1.1.1'"), e.getMessage());
  }

  @Test
  void sign_issuesRsaAndEd25519Certificates_whenRequested() throws Exception {
    for (KeyAlgorithm algorithm : List.of(KeyAlgorithm.RSA_3072, KeyAlgorithm.ED25519)) {
      PKCS10CertificationRequest csr = CertificateRequests.create(dir.resolve(algorithm.cliName()), "bank-a", algorithm).csr();
      X509Certificate issued = ca.sign(csr, Role.PARTICIPANT, YEAR, List.of(), List.of());
      assertEquals(algorithm, KeyAlgorithm.of(issued.getPublicKey()));
    }
  }

  @Test
  void revoke_marksIndexAndListsSerialOnNewCrl() throws Exception {
    X509Certificate a = issue("bank-a");
    X509Certificate b = issue("bank-b");

    IssuedCertificate revoked = ca.revoke(a.getSerialNumber(), RevocationReason.KEY_COMPROMISE);

    assertEquals(RevocationReason.KEY_COMPROMISE, revoked.reason());
    X509CRL crl = ca.currentCrl();
    assertTrue(crl.isRevoked(a));
    assertFalse(crl.isRevoked(b));
    crl.verify(ca.certificate().getPublicKey());
    assertTrue(crl.getNextUpdate().after(crl.getThisUpdate()));
    CertificateAuthority reloaded = CertificateAuthority.load(dir.resolve("ca"));
    assertEquals(List.of(IssuedCertificate.Status.REVOKED, IssuedCertificate.Status.VALID),
        reloaded.list().stream().map(entry -> entry.status(java.time.Instant.now())).toList());
    assertEquals("key-compromise", reloaded.list().get(0).reason().cliName());
  }

  @Test
  void revokeByName_revokesEveryCertificateOfThatName() throws Exception {
    X509Certificate first = issue("bank-a");
    X509Certificate renewed = ca.sign(CertificateRequests.create(dir.resolve("bank-a-renewed"), "bank-a",
        KeyAlgorithm.EC_P256).csr(), Role.PARTICIPANT, YEAR, List.of(), List.of());

    assertEquals(2, ca.revoke("bank-a", RevocationReason.CESSATION_OF_OPERATION).size());

    assertTrue(ca.currentCrl().isRevoked(first) && ca.currentCrl().isRevoked(renewed));
    IllegalArgumentException again = assertThrows(IllegalArgumentException.class,
        () -> ca.revoke("bank-a", RevocationReason.UNSPECIFIED));
    assertTrue(again.getMessage().contains("already revoked"), again.getMessage());
  }

  @Test
  void revoke_refuses_whenSerialUnknown() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ca.revoke(new BigInteger("abc123", 16), RevocationReason.UNSPECIFIED));
    assertTrue(e.getMessage().contains("serial abc123"), e.getMessage());
  }

  @Test
  void writeCrl_incrementsCrlNumber_eachTime() throws Exception {
    BigInteger first = CertificateAuthority.crlNumber(ca.currentCrl());
    BigInteger second = CertificateAuthority.crlNumber(ca.writeCrl());
    issue("bank-a");
    ca.revoke("bank-a", RevocationReason.SUPERSEDED); // re-issues the CRL
    BigInteger third = CertificateAuthority.crlNumber(ca.currentCrl());
    BigInteger fourth = CertificateAuthority.crlNumber(CertificateAuthority.load(dir.resolve("ca")).writeCrl());

    assertEquals(List.of(BigInteger.ONE, BigInteger.TWO, BigInteger.valueOf(3), BigInteger.valueOf(4)),
        List.of(first, second, third, fourth));
  }

  @Test
  void load_refuses_whenKeyDoesNotBelongToCertificate() throws Exception {
    CertificateAuthority.init(dir.resolve("other"), "other-root", KeyAlgorithm.EC_P256, Duration.ofDays(10));
    Files.copy(dir.resolve("other/ca.crt.pem"), dir.resolve("ca/ca.crt.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);

    InvalidKeyException e = assertThrows(InvalidKeyException.class, () -> CertificateAuthority.load(dir.resolve("ca")));

    assertTrue(e.getMessage().contains("ca.key.pem") && e.getMessage().contains("does not belong"), e.getMessage());
  }

  @Test
  void createRequest_refuses_whenKeyAlreadyExists() throws Exception {
    CertificateRequests.create(dir.resolve("member"), "bank-a", KeyAlgorithm.EC_P256);

    assertThrows(FileAlreadyExistsException.class,
        () -> CertificateRequests.create(dir.resolve("member"), "bank-a", KeyAlgorithm.EC_P256));
  }

  private X509Certificate issue(String name) throws Exception {
    return ca.sign(CertificateRequests.create(dir.resolve(name), name, KeyAlgorithm.EC_P256).csr(),
        Role.PARTICIPANT, YEAR, List.of(), List.of());
  }


  private static List<List<Object>> sans(Collection<List<?>> names) {
    List<List<Object>> result = new ArrayList<>();
    for (List<?> name : names) {
      result.add(List.of(name.get(0), name.get(1)));
    }
    return result;
  }
}
