package io.consort.participant;

import io.consort.certs.CrlFileValidator;
import io.consort.certs.PemFiles;
import io.consort.identity.CertificateRejectedException;
import io.consort.identity.CertificateValidator;
import io.consort.identity.Role;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Whether the bank believes the server it dials is the consortium's coordinator: the JDK's PKIX
 * check (chain to the pinned consortium CA, host name against the certificate's SAN), then the
 * consortium validator with the bank's CRL as the file is now ({@link CrlFileValidator}: re-read
 * whenever it changed): not revoked, not expired, the CRL not stale, role {@code coordinator}.
 * Checked at every TLS handshake, and again for the open connection's certificate before the bank
 * acts on anything the coordinator sends ({@link #stillTrusted}), so a coordinator revoked while the
 * bank is connected is dropped at its next task.
 */
final class CoordinatorTrust extends X509ExtendedTrustManager {
  private final X509ExtendedTrustManager pkix;
  private final Supplier<CertificateValidator> validator;
  private volatile X509Certificate coordinator;

  private CoordinatorTrust(X509ExtendedTrustManager pkix, Supplier<CertificateValidator> validator) {
    this.pkix = pkix;
    this.validator = validator;
  }

  /**
   * @param caFile the consortium CA, the only trust anchor
   * @param crlFile the bank's copy of the consortium CRL, or null (then only the TLS checks and
   *     validity dates apply)
   */
  static CoordinatorTrust open(Path caFile, Path crlFile) throws IOException, GeneralSecurityException {
    KeyStore anchors = KeyStore.getInstance("PKCS12");
    anchors.load(null, null);
    anchors.setCertificateEntry("consortium-ca", PemFiles.readCertificate(caFile));
    TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
    factory.init(anchors);
    for (TrustManager tm : factory.getTrustManagers()) {
      if (tm instanceof X509ExtendedTrustManager x) {
        return new CoordinatorTrust(x, CrlFileValidator.open(caFile, crlFile));
      }
    }
    throw new GeneralSecurityException("the JDK offers no X509ExtendedTrustManager for PKIX");
  }

  /**
   * Why the coordinator's certificate of the open connection is no longer to be believed (revoked
   * since the handshake, expired, the CRL stale), or empty while it is.
   */
  Optional<String> stillTrusted() {
    X509Certificate c = coordinator;
    if (c == null) {
      return Optional.empty();
    }
    try {
      validator.get().validate(c, Role.COORDINATOR);
      return Optional.empty();
    } catch (CertificateRejectedException e) {
      return Optional.of(e.getMessage());
    }
  }

  private void consortiumCheck(X509Certificate[] chain) throws CertificateException {
    try {
      validator.get().validate(chain[0], Role.COORDINATOR);
    } catch (CertificateRejectedException e) {
      throw new CertificateException("the coordinator's " + e.getMessage(), e);
    }
    coordinator = chain[0];
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    pkix.checkServerTrusted(chain, authType, engine);
    consortiumCheck(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    pkix.checkServerTrusted(chain, authType, socket);
    consortiumCheck(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    pkix.checkServerTrusted(chain, authType);
    consortiumCheck(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    throw new CertificateException("a bank's daemon accepts no connections");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    throw new CertificateException("a bank's daemon accepts no connections");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    throw new CertificateException("a bank's daemon accepts no connections");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return pkix.getAcceptedIssuers();
  }
}
