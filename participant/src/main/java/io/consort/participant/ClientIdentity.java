package io.consort.participant;

import io.consort.certs.PemFiles;
import io.vertx.core.net.KeyCertOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.X509KeyManager;

/**
 * The bank's TLS client identity (its key and certificate chain), read from its PEM files once, when
 * the daemon starts. Handed to Vert.x as file paths ({@code PemKeyCertOptions}) it was read, parsed
 * into a key store and a key manager again for every new client, which the daemon makes at every
 * reconnection, and on the event loop that opens the connection: with 100 banks starting at once on
 * 2 cores that held the event loops for seconds and made handshakes time out.
 */
final class ClientIdentity {
  private ClientIdentity() {
  }

  /**
   * @throws IllegalStateException naming the files if they cannot be read or do not form a key
   *     and its chain
   */
  static KeyCertOptions load(Path keyFile, Path chainFile) {
    try {
      PrivateKey key = PemFiles.readPrivateKey(keyFile);
      List<X509Certificate> chain = PemFiles.readCertificates(chainFile);
      char[] none = new char[0];
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("identity", key, none, chain.toArray(new X509Certificate[0]));
      KeyManagerFactory factory = KeyManagerFactory.getInstance("PKIX");
      factory.init(store, none);
      for (KeyManager manager : factory.getKeyManagers()) {
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
