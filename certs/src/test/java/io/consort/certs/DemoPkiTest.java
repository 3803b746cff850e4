package io.consort.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.identity.CertificateValidator;
import io.consort.identity.KeyAlgorithm;
import io.consort.identity.PeerIdentity;
import io.consort.identity.Role;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoPkiTest {
  @TempDir
  Path dir;

  @Test
  void create_writesDocumentedLayout_withCheckableMaterialForEveryIdentity() throws Exception {
    DemoPki pki = DemoPki.create(dir, "coordinator", List.of("bank-1", "bank-2"));

    for (String file : List.of("ca.crt.pem", "ca.key.pem", "crl.pem", "index.tsv", "crlnumber")) {
      assertTrue(Files.isRegularFile(dir.resolve("ca").resolve(file)), file);
    }
    List<TlsMaterial> all = List.of(pki.coordinator(), pki.bank("bank-1"), pki.bank("bank-2"),
        pki.operator(), pki.auditor());
    for (TlsMaterial material : all) {
      material.check();
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(material.keyFile())));
    }
    assertEquals(dir.resolve("banks/bank-2/key.pem"), pki.bank("bank-2").keyFile());
    assertEquals(dir.resolve("coordinator/chain.pem"), pki.coordinator().chainFile());
    assertEquals(2, PemFiles.readCertificates(pki.bank("bank-1").chainFile()).size());
    assertEquals(5, pki.authority().list().size());

    CertificateValidator validator = pki.validator();
    X509Certificate coordinator = PemFiles.readCertificate(pki.coordinator().certificateFile());
    assertEquals(new PeerIdentity("coordinator", Role.COORDINATOR, coordinator.getSerialNumber()),
        validator.validate(coordinator, Role.COORDINATOR));
    assertEquals("auditor", validator.validate(PemFiles.readCertificate(pki.auditor().certificateFile()),
        Set.of(Role.AUDITOR)).name());
  }

  @Test
  void create_refusesBankNames_whenDuplicated() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DemoPki.create(dir, "coordinator", List.of("bank-1", "bank-1")));
    assertTrue(e.getMessage().contains("'bank-1'"), e.getMessage());
  }

  @Test
  void keyManagers_refuseAKey_thatDoesNotBelongToTheChainsFirstCertificate() throws Exception {
    DemoPki pki = DemoPki.create(dir, "coordinator", List.of("bank-1", "bank-2"));
    Path otherKey = pki.bank("bank-2").keyFile();
    Path chain = pki.bank("bank-1").chainFile();

    Exception e = assertThrows(java.security.InvalidKeyException.class, () -> TlsMaterial.keyManagers(otherKey, chain));

    assertTrue(e.getMessage().contains(otherKey.toString()) && e.getMessage().contains(chain.toString()),
        e.getMessage());
    TlsMaterial.keyManagers(pki.bank("bank-1").keyFile(), chain);   // the bank's own pair loads
  }

  @Test
  void check_namesMissingFile_whenCrlDeleted() throws Exception {
    DemoPki pki = DemoPki.create(dir, "coordinator", List.of("bank-1"));
    Files.delete(pki.bank("bank-1").crlFile());

    PemFileException e = assertThrows(PemFileException.class, () -> pki.bank("bank-1").check());

    assertEquals(pki.bank("bank-1").crlFile(), e.file());
    assertTrue(e.getMessage().contains("crl.pem") && e.getMessage().contains("does not exist"), e.getMessage());
  }

  @Test
  void check_refuses_whenKeyIsEd25519_becauseVertxCannotLoadIt() throws Exception {
    DemoPki pki = DemoPki.create(dir, "coordinator", List.of("bank-1"));
    Path edDir = dir.resolve("ed");
    CertificateRequests.CertificateRequest request = CertificateRequests.create(edDir, "bank-ed", KeyAlgorithm.ED25519);
    TlsMaterial material = TlsMaterial.inDirectory(edDir).writeCertificates(
        pki.authority().sign(request.csr(), Role.PARTICIPANT, java.time.Duration.ofDays(1), List.of(), List.of()),
        pki.authority().certificate(), pki.authority().currentCrl());

    Exception e = assertThrows(java.security.InvalidKeyException.class, material::check);

    assertTrue(e.getMessage().contains("Vert.x") && e.getMessage().contains(edDir.resolve("key.pem").toString()),
        e.getMessage());
  }

  @Test
  void check_refuses_whenKeyBelongsToAnotherIdentity() throws Exception {
    DemoPki pki = DemoPki.create(dir, "coordinator", List.of("bank-1", "bank-2"));
    TlsMaterial mixed = pki.bank("bank-1").withCertificateFile(pki.bank("bank-2").certificateFile());

    Exception e = assertThrows(java.security.InvalidKeyException.class, mixed::check);

    assertTrue(e.getMessage().contains("does not belong"), e.getMessage());
  }
}
