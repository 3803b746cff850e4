package io.consort.participant;

import io.consort.certs.TlsMaterial;
import io.vertx.core.net.KeyCertOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import javax.net.ssl.KeyManager;
import javax.net.ssl.X509KeyManager;

/**
 * The bank's TLS client identity (its key and certificate chain), read from its PEM files once, when
 * the daemon starts. Handed to Vert.x as file paths ({@code PemKeyCertOptions}) it was read, parsed
 * into a key store and a key manager again for every new client, which the daemon makes at every
 * reconnection, and on the event loop that opens the connection: with 100 banks starting at once on
 * 2 cores that held the event loops for seconds and made handshakes time out. A renewed certificate
 * is therefore taken up when the daemon restarts (docs/PKI.md).
 */
final class ClientIdentity {
  private ClientIdentity() {
  }

  /**
   * @throws IllegalStateException naming the files if they cannot be read or parsed as a key and a
   *     certificate chain, or if the key is not the chain's first certificate's (checked by signing a
   *     random challenge, so a daemon with mismatched files stops at start instead of failing every
   *     handshake)
   */
  static KeyCertOptions load(Path keyFile, Path chainFile) {
    try {
      for (KeyManager manager : TlsMaterial.keyManagers(keyFile, chainFile).getKeyManagers()) {
        if (manager instanceof X509KeyManager x509) {
          return KeyCertOptions.wrap(x509);
        }
      }
      throw new GeneralSecurityException("the JDK offers no X509KeyManager for PKIX");
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("tls.key " + keyFile + " / tls.cert " + chainFile + " cannot be used: "
          + e.getMessage(), e);
    }
  }
}
