package io.consort.certs;

import io.consort.identity.CertificateValidator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CRLException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consortium CA with the CRL kept in a file: {@link #get()} gives the validator for the CRL as it
 * is on disk now, parsing the file again whenever its bytes changed since the last call (a CRL is a
 * few kilobytes, and comparing bytes does not depend on the file system's timestamp resolution). A file that can no longer be read or that does not verify under the CA leaves the previous CRL
 * in force (logged); a CRL past its nextUpdate fails closed in {@link CertificateValidator} itself.
 * Thread-safe; what the coordinator and the banks check relayed peer certificates with.
 */
public final class CrlFileValidator implements Supplier<CertificateValidator> {
  private static final Logger log = LoggerFactory.getLogger(CrlFileValidator.class);

  private final Path crlFile;
  private CertificateValidator current;
  private byte[] loaded;

  private CrlFileValidator(Path crlFile, CertificateValidator initial, byte[] loaded) {
    this.crlFile = crlFile;
    this.current = initial;
    this.loaded = loaded;
  }

  /**
   * @param caFile the consortium CA certificate (PEM)
   * @param crlFile the CA's CRL (PEM), or null for no revocation checking
   * @throws IOException if a file cannot be read
   * @throws GeneralSecurityException if the CRL is not issued and signed by the CA
   */
  public static Supplier<CertificateValidator> open(Path caFile, Path crlFile)
      throws IOException, GeneralSecurityException {
    X509Certificate ca = PemFiles.readCertificate(caFile);
    if (crlFile == null) {
      CertificateValidator fixed = new CertificateValidator(ca, null);
      return () -> fixed;
    }
    byte[] bytes = Files.readAllBytes(crlFile);
    return new CrlFileValidator(crlFile, load(ca, crlFile), bytes);
  }

  @Override
  public synchronized CertificateValidator get() {
    byte[] now;
    try {
      now = Files.readAllBytes(crlFile);
    } catch (IOException e) {
      log.error("CRL {} could not be read; the previous one stays in force: {}", crlFile, e.getMessage());
      return current;
    }
    if (!Arrays.equals(now, loaded)) {
      loaded = now;
      try {
        current = load(current.caCertificate(), crlFile);
        log.info("CRL reloaded from {}", crlFile);
      } catch (IOException | GeneralSecurityException e) {
        log.error("CRL {} could not be reloaded; the previous one stays in force: {}", crlFile, e.getMessage());
      }
    }
    return current;
  }

  private static CertificateValidator load(X509Certificate ca, Path crlFile) throws IOException, CRLException {
    try {
      return new CertificateValidator(Objects.requireNonNull(ca, "ca"), PemFiles.readCrl(crlFile));
    } catch (CRLException e) {
      throw new CRLException(crlFile + ": " + e.getMessage(), e);
    }
  }
}
