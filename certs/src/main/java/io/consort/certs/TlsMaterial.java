package io.consort.certs;

import io.consort.identity.CertificateValidator;
import io.consort.identity.KeyAlgorithm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CRLException;
import java.security.cert.CertStore;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CRL;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The files one identity (coordinator, bank, operator, auditor) needs for mutual TLS, by the
 * standard layout of an identity directory:
 *
 * <pre>
 * key.pem      private key, PKCS#8 PEM ("BEGIN PRIVATE KEY"), mode 600 (Vert.x PemKeyCertOptions.keyPath)
 * cert.pem     this identity's certificate
 * chain.pem    certificate chain, leaf then CA (Vert.x PemKeyCertOptions.certPath)
 * ca.crt.pem   the consortium CA certificate, the only trust anchor (Vert.x PemTrustOptions.certPath)
 * crl.pem      the consortium CRL (Vert.x addCrlPath)
 * </pre>
 *
 * @param keyFile private key
 * @param certificateFile leaf certificate
 * @param chainFile leaf then CA
 * @param caFile consortium CA certificate
 * @param crlFile consortium CRL
 */
public record TlsMaterial(Path keyFile, Path certificateFile, Path chainFile, Path caFile, Path crlFile) {
  public static final String KEY_FILE = "key.pem";
  public static final String CERTIFICATE_FILE = "cert.pem";
  public static final String CHAIN_FILE = "chain.pem";
  public static final String CA_FILE = "ca.crt.pem";
  public static final String CRL_FILE = "crl.pem";

  public TlsMaterial {
    Objects.requireNonNull(keyFile, "keyFile");
    Objects.requireNonNull(certificateFile, "certificateFile");
    Objects.requireNonNull(chainFile, "chainFile");
    Objects.requireNonNull(caFile, "caFile");
    Objects.requireNonNull(crlFile, "crlFile");
  }

  /** The standard file names inside one identity directory. */
  public static TlsMaterial inDirectory(Path identityDir) {
    return new TlsMaterial(identityDir.resolve(KEY_FILE), identityDir.resolve(CERTIFICATE_FILE),
        identityDir.resolve(CHAIN_FILE), identityDir.resolve(CA_FILE), identityDir.resolve(CRL_FILE));
  }

  /** The same files, but the leaf certificate at {@code file}. */
  public TlsMaterial withCertificateFile(Path file) {
    return new TlsMaterial(keyFile, file, chainFile, caFile, crlFile);
  }

  /** The same files, but the chain at {@code file}. */
  public TlsMaterial withChainFile(Path file) {
    return new TlsMaterial(keyFile, certificateFile, file, caFile, crlFile);
  }

  /** The same files, but the CA certificate at {@code file}. */
  public TlsMaterial withCaFile(Path file) {
    return new TlsMaterial(keyFile, certificateFile, chainFile, file, crlFile);
  }

  /** The same files, but the CRL at {@code file} (e.g. the CA's own {@code crl.pem}). */
  public TlsMaterial withCrlFile(Path file) {
    return new TlsMaterial(keyFile, certificateFile, chainFile, caFile, file);
  }

  /**
   * Writes everything but the key: the leaf, the chain (leaf then CA), the CA certificate and
   * the CRL. The key was created in place by {@link CertificateRequests#create}.
   */
  public TlsMaterial writeCertificates(X509Certificate leaf, X509Certificate ca, X509CRL crl) throws IOException {
    PemFiles.writeCertificate(certificateFile, leaf);
    PemFiles.writeCertificates(chainFile, List.of(leaf, ca));
    PemFiles.writeCertificate(caFile, ca);
    PemFiles.writeCrl(crlFile, crl);
    return this;
  }

  /**
   * Checks that every file exists and parses, that the key belongs to the certificate, that the
   * chain starts with that certificate, and that the certificate and the CRL are signed by the
   * CA, and that the key type is one Vert.x can load (EC P-256 or RSA; not Ed25519). Does not
   * check validity dates or roles ({@link CertificateValidator} does).
   *
   * @return this, for chaining
   * @throws PemFileException naming the missing or unreadable file
   * @throws GeneralSecurityException naming the files that do not belong together
   */
  public TlsMaterial check() throws IOException, GeneralSecurityException {
    PrivateKey key = PemFiles.readPrivateKey(keyFile);
    X509Certificate leaf = PemFiles.readCertificate(certificateFile);
    List<X509Certificate> chain = PemFiles.readCertificates(chainFile);
    X509Certificate ca = PemFiles.readCertificate(caFile);
    X509CRL crl = PemFiles.readCrl(crlFile);
    if (KeyAlgorithm.of(key) == KeyAlgorithm.ED25519) {
      // Checked with vertx-core 5.0.7: PemKeyCertOptions fails with "Unsupported algorithm identifier".
      throw new InvalidKeyException(keyFile + ": Ed25519 keys work with JDK TLS but Vert.x PemKeyCertOptions"
          + " cannot load them; enrol this identity with ec-p256");
    }
    if (!KeyPairs.matches(key, leaf.getPublicKey())) {
      throw new InvalidKeyException(keyFile + ": this private key does not belong to " + certificateFile);
    }
    if (!chain.get(0).equals(leaf)) {
      throw new GeneralSecurityException(chainFile + ": the chain does not start with " + certificateFile);
    }
    try {
      leaf.verify(ca.getPublicKey());
    } catch (GeneralSecurityException e) {
      throw new GeneralSecurityException(certificateFile + ": not signed by the CA in " + caFile, e);
    }
    try {
      crl.verify(ca.getPublicKey());
    } catch (GeneralSecurityException e) {
      throw new GeneralSecurityException(crlFile + ": not signed by the CA in " + caFile, e);
    }
    return this;
  }

  /**
   * Key managers that present the key in {@code keyFile} with the chain in {@code chainFile}, read
   * once: for a TLS client or server that should not re-read the files for every connection.
   */
  public static KeyManagerFactory keyManagers(Path keyFile, Path chainFile) throws IOException,
      GeneralSecurityException {
    PrivateKey key = PemFiles.readPrivateKey(keyFile);
    List<X509Certificate> chain = PemFiles.readCertificates(chainFile);
    if (chain.isEmpty()) {
      throw new GeneralSecurityException(chainFile + ": no certificate");
    }
    if (!KeyPairs.matches(key, chain.get(0).getPublicKey())) {
      throw new InvalidKeyException(keyFile + ": this private key does not belong to the first certificate of "
          + chainFile);
    }
    char[] password = new char[0];
    KeyStore keyStore = KeyStore.getInstance("PKCS12");
    keyStore.load(null, null);
    keyStore.setKeyEntry("identity", key, password, chain.toArray(new X509Certificate[0]));
    KeyManagerFactory keyManagers = KeyManagerFactory.getInstance("PKIX");
    keyManagers.init(keyStore, password);
    return keyManagers;
  }

  /**
   * A JDK {@link SSLContext} (TLS 1.3 and 1.2) for mutual TLS with these files: presents the
   * chain, trusts only the consortium CA and checks peers against the CRL. For plain JDK
   * clients and tests; Vert.x servers use the file paths directly.
   */
  public SSLContext jdkSslContext() throws IOException, GeneralSecurityException {
    KeyManagerFactory keyManagers = keyManagers(keyFile, chainFile);
    X509Certificate ca = PemFiles.readCertificate(caFile);
    X509CRL crl = PemFiles.readCrl(crlFile);

    PKIXBuilderParameters pkix = new PKIXBuilderParameters(Set.of(new TrustAnchor(ca, null)), new X509CertSelector());
    pkix.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(List.of(crl))));
    pkix.setRevocationEnabled(true);
    TrustManagerFactory trustManagers = TrustManagerFactory.getInstance("PKIX");
    trustManagers.init(new CertPathTrustManagerParameters(pkix));

    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), new SecureRandom());
    return context;
  }

  /**
   * The application-level validator for peers of this identity: the consortium CA and the CRL
   * as they are in this directory now. To reload a re-issued CRL, call this again (or
   * {@link CertificateValidator#withCrl}) and swap the new validator in.
   *
   * @throws CRLException naming the CRL file if it is not issued and signed by the CA
   */
  public CertificateValidator validator() throws IOException, GeneralSecurityException {
    X509Certificate ca = PemFiles.readCertificate(caFile);
    X509CRL crl = PemFiles.readCrl(crlFile);
    try {
      return new CertificateValidator(ca, crl);
    } catch (CRLException e) {
      throw new CRLException(crlFile + ": " + e.getMessage(), e);
    }
  }

  /** True if all five files exist (without parsing them). */
  public boolean exists() {
    return Files.isRegularFile(keyFile) && Files.isRegularFile(certificateFile) && Files.isRegularFile(chainFile)
        && Files.isRegularFile(caFile) && Files.isRegularFile(crlFile);
  }
}
