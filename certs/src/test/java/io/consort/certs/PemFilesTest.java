package io.consort.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.identity.KeyAlgorithm;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PemFilesTest {
  @TempDir
  Path dir;

  @Test
  void readCertificate_namesFile_whenMissing() {
    Path missing = dir.resolve("nope.pem");

    PemFileException e = assertThrows(PemFileException.class, () -> PemFiles.readCertificate(missing));

    assertEquals(missing + ": file does not exist", e.getMessage());
    assertEquals(missing, e.file());
  }

  @Test
  void readCertificate_namesFile_whenNotPem() throws Exception {
    Path text = Files.writeString(dir.resolve("notes.txt"), "just some words\n");

    PemFileException e = assertThrows(PemFileException.class, () -> PemFiles.readCertificate(text));

    assertTrue(e.getMessage().startsWith(text + ": not a PEM file"), e.getMessage());
  }

  @Test
  void readCertificate_namesFileAndType_whenFileHoldsKey() throws Exception {
    Path keyFile = CertificateRequests.create(dir.resolve("member"), "bank-a", KeyAlgorithm.EC_P256).keyFile();

    PemFileException e = assertThrows(PemFileException.class, () -> PemFiles.readCertificate(keyFile));

    assertEquals(keyFile + ": expected a certificate but found a private key", e.getMessage());
  }

  @Test
  void readCsr_namesFile_whenContentCorrupt() throws Exception {
    Path corrupt = Files.writeString(dir.resolve("csr.pem"),
        "-----BEGIN CERTIFICATE REQUEST-----\nAAAAbm90IGEgY3Ny\n-----END CERTIFICATE REQUEST-----\n");

    PemFileException e = assertThrows(PemFileException.class, () -> PemFiles.readCsr(corrupt));

    assertTrue(e.getMessage().startsWith(corrupt + ": corrupt"), e.getMessage());
  }

  @Test
  void readCrl_namesFile_whenFileHoldsCsr() throws Exception {
    Path csrFile = CertificateRequests.create(dir.resolve("member"), "bank-a", KeyAlgorithm.EC_P256).csrFile();

    PemFileException e = assertThrows(PemFileException.class, () -> PemFiles.readCrl(csrFile));

    assertEquals(csrFile + ": expected a CRL but found a certificate signing request", e.getMessage());
  }

  @Test
  void readPrivateKey_acceptsSec1EcKey_andPkcs8RoundTrip() throws Exception {
    KeyPair keys = KeyAlgorithm.EC_P256.generateKeyPair();
    Path sec1 = dir.resolve("sec1.pem");
    // OpenSSL's traditional form (RFC 5915, with the named curve), as `openssl ecparam -genkey` writes it.
    PrivateKeyInfo pkcs8Info = PrivateKeyInfo.getInstance(keys.getPrivate().getEncoded());
    ECPrivateKey inner = ECPrivateKey.getInstance(pkcs8Info.parsePrivateKey());
    ECPrivateKey sec1Key = new ECPrivateKey(256, inner.getKey(),
        SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded()).getPublicKeyData(),
        pkcs8Info.getPrivateKeyAlgorithm().getParameters());
    try (PemWriter writer = new PemWriter(Files.newBufferedWriter(sec1))) {
      writer.writeObject(new PemObject("EC PRIVATE KEY", sec1Key.getEncoded()));
    }
    assertTrue(Files.readString(sec1).startsWith("-----BEGIN EC PRIVATE KEY-----"));
    Path pkcs8 = dir.resolve("pkcs8.pem");
    PemFiles.writePrivateKey(pkcs8, keys.getPrivate());

    PrivateKey fromSec1 = PemFiles.readPrivateKey(sec1);
    PrivateKey fromPkcs8 = PemFiles.readPrivateKey(pkcs8);

    assertTrue(KeyPairs.matches(fromSec1, keys.getPublic()));
    assertEquals(keys.getPrivate(), fromPkcs8);
    assertTrue(Files.readString(pkcs8).startsWith("-----BEGIN PRIVATE KEY-----"));
  }

  @Test
  void writePrivateKey_refusesToOverwriteExistingKey() throws Exception {
    Path keyFile = dir.resolve("key.pem");
    PemFiles.writePrivateKey(keyFile, KeyAlgorithm.EC_P256.generateKeyPair().getPrivate());
    String before = Files.readString(keyFile);

    assertThrows(FileAlreadyExistsException.class,
        () -> PemFiles.writePrivateKey(keyFile, KeyAlgorithm.EC_P256.generateKeyPair().getPrivate()));

    assertEquals(before, Files.readString(keyFile));
  }

  @Test
  void readCertificates_returnsChainInFileOrder() throws Exception {
    DemoPki pki = DemoPki.create(dir.resolve("pki"), "coordinator", List.of("bank-1"));

    List<java.security.cert.X509Certificate> chain = PemFiles.readCertificates(pki.bank("bank-1").chainFile());

    assertEquals(List.of(PemFiles.readCertificate(pki.bank("bank-1").certificateFile()), pki.authority().certificate()),
        chain);
  }
}
