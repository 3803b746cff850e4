package io.consort.certs;

import io.consort.identity.KeyAlgorithm;
import io.consort.identity.PeerIdentity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.util.Objects;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * Enrolment, at the member's side: creates the member's private key and a PKCS#10 request for
 * the CA. The key stays in the member's directory; only the request travels.
 */
public final class CertificateRequests {
  /** The request's file name, next to {@link TlsMaterial#KEY_FILE}. */
  public static final String CSR_FILE = "csr.pem";

  private CertificateRequests() {
  }

  /**
   * What {@link #create} wrote.
   *
   * @param keyFile the new private key (PKCS#8 PEM, mode 600); never send it anywhere
   * @param csrFile the request to send to the CA
   * @param csr the request itself
   */
  public record CertificateRequest(Path keyFile, Path csrFile, PKCS10CertificationRequest csr) {
  }

  /**
   * Generates a key pair and writes {@code key.pem} (mode 600) and {@code csr.pem} with subject
   * {@code CN=<name>} into {@code memberDir} (created, mode 700, if missing).
   *
   * @throws java.nio.file.FileAlreadyExistsException if {@code memberDir} already holds a key
   * @throws IllegalArgumentException if {@code name} is not a valid identity name
   */
  public static CertificateRequest create(Path memberDir, String name, KeyAlgorithm algorithm)
      throws IOException, GeneralSecurityException {
    PeerIdentity.requireValidName(name);
    Objects.requireNonNull(algorithm, "algorithm");
    PemFiles.createPrivateDirectory(memberDir);
    Path keyFile = memberDir.resolve(TlsMaterial.KEY_FILE);
    Path csrFile = memberDir.resolve(CSR_FILE);
    if (Files.exists(keyFile)) {
      throw new java.nio.file.FileAlreadyExistsException(keyFile.toString(), null,
          "a private key already exists there; refusing to replace it (remove it first to re-enrol)");
    }
    KeyPair keyPair = algorithm.generateKeyPair();
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, name).build();
    PKCS10CertificationRequest csr;
    try {
      csr = new JcaPKCS10CertificationRequestBuilder(subject, keyPair.getPublic())
          .build(new JcaContentSignerBuilder(algorithm.signatureAlgorithm()).build(keyPair.getPrivate()));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException("cannot sign the CSR with " + algorithm.cliName() + ": " + e.getMessage(), e);
    }
    PemFiles.writePrivateKey(keyFile, keyPair.getPrivate());
    PemFiles.writeCsr(csrFile, csr);
    return new CertificateRequest(keyFile, csrFile, csr);
  }
}
