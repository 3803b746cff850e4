package io.consort.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.consort.identity.CertificateValidator;
import io.consort.identity.KeyAlgorithm;
import io.consort.identity.PeerIdentity;
import io.consort.identity.Role;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Real TLS 1.3 mutual-auth handshakes with the JDK provider, using only the files on disk. */
@Tag("e2e")
@Timeout(value = 30, unit = TimeUnit.SECONDS)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsHandshakeTest {
  private Path dir;
  private DemoPki consortium;
  private DemoPki foreign;
  private final ExecutorService executor = Executors.newSingleThreadExecutor();

  @BeforeAll
  void createPki(@TempDir Path tempDir) throws Exception {
    dir = tempDir;
    consortium = DemoPki.create(dir.resolve("consortium"), "coordinator", List.of("bank-1", "bank-2"));
    foreign = DemoPki.createForeign(dir.resolve("foreign"), List.of("bank-1"));
  }

  @AfterAll
  void stop() {
    executor.shutdownNow();
  }

  @Test
  void handshake_succeeds_forConsortiumBank_andServerSeesItsIdentity() throws Exception {
    Future<PeerIdentity> server = serveOnce(consortium.coordinator());
    String protocol = connect(consortium.bank("bank-1"));

    assertEquals("TLSv1.3", protocol);
    PeerIdentity peer = server.get(10, TimeUnit.SECONDS);
    assertEquals("bank-1", peer.name());
    assertEquals(Role.PARTICIPANT, peer.role());
  }

  @Test
  void handshake_fails_forBankOfAnotherCa() throws Exception {
    Future<PeerIdentity> server = serveOnce(consortium.coordinator());

    // The stranger trusts only its own CA, so it refuses the coordinator during its own handshake.
    assertThrows(SSLHandshakeException.class, () -> connect(foreign.bank("bank-1")));
    assertThrows(ExecutionException.class, () -> server.get(10, TimeUnit.SECONDS));
  }

  @Test
  void handshake_fails_atServer_forClientOfAnotherCaThatTrustsOurs() throws Exception {
    // A stranger holding our CA certificate still cannot get in: the server refuses its certificate.
    TlsMaterial stranger = foreign.bank("bank-1").withCaFile(consortium.coordinator().caFile())
        .withCrlFile(consortium.coordinator().crlFile());
    Future<PeerIdentity> server = serveOnce(consortium.coordinator());

    assertRefusedByServer(server, () -> connect(stranger));
  }

  @Test
  void handshake_fails_forRevokedBank() throws Exception {
    DemoPki pki = DemoPki.create(dir.resolve("revocation"), "coordinator", List.of("bank-1"));
    pki.revokeAndPublish("bank-1", RevocationReason.KEY_COMPROMISE);
    Future<PeerIdentity> server = serveOnce(pki.coordinator());

    assertRefusedByServer(server, () -> connect(pki.bank("bank-1")));
  }

  /**
   * In TLS 1.3 the server checks the client certificate after the client has finished its side of
   * the handshake, so the client sees either the server's alert (SSLHandshakeException) or a reset
   * connection (SocketException), depending on timing; the server's handshake failure is the
   * deterministic evidence.
   */
  private static void assertRefusedByServer(Future<PeerIdentity> server, Executable client) {
    assertThrows(IOException.class, client);
    ExecutionException refused = assertThrows(ExecutionException.class, () -> server.get(10, TimeUnit.SECONDS));
    assertInstanceOf(SSLHandshakeException.class, refused.getCause(), String.valueOf(refused.getCause()));
  }

  @ParameterizedTest
  @EnumSource(KeyAlgorithm.class)
  void handshake_succeeds_forEveryOfferedKeyAlgorithm(KeyAlgorithm algorithm) throws Exception {
    Path root = dir.resolve("algorithm-" + algorithm.cliName());
    CertificateAuthority ca = CertificateAuthority.init(root.resolve("ca"), "root-" + algorithm.cliName(), algorithm,
        Duration.ofDays(30));
    TlsMaterial server = enrol(ca, root.resolve("coordinator"), "coordinator", Role.COORDINATOR, algorithm);
    TlsMaterial client = enrol(ca, root.resolve("bank-1"), "bank-1", Role.PARTICIPANT, algorithm);
    Future<PeerIdentity> accepted = serveOnce(server);

    assertEquals("TLSv1.3", connect(client));
    assertEquals("bank-1", accepted.get(10, TimeUnit.SECONDS).name());
  }

  private static TlsMaterial enrol(CertificateAuthority ca, Path identityDir, String name, Role role,
      KeyAlgorithm algorithm) throws Exception {
    CertificateRequests.CertificateRequest request = CertificateRequests.create(identityDir, name, algorithm);
    X509Certificate certificate = ca.sign(request.csr(), role, Duration.ofDays(1), List.of("localhost"),
        List.of("127.0.0.1"));
    // No check(): it refuses Ed25519 because Vert.x cannot load it; the JDK handshake still works.
    return TlsMaterial.inDirectory(identityDir).writeCertificates(certificate, ca.certificate(), ca.currentCrl());
  }

  /** Accepts one connection, requires a client certificate, validates it, echoes one byte. */
  private Future<PeerIdentity> serveOnce(TlsMaterial material) throws Exception {
    SSLServerSocket listener = (SSLServerSocket) material.jdkSslContext().getServerSocketFactory()
        .createServerSocket(0, 1, InetAddress.getLoopbackAddress());
    listener.setNeedClientAuth(true);
    listener.setEnabledProtocols(new String[] {"TLSv1.3"});
    port = listener.getLocalPort();
    CertificateValidator validator = material.validator();
    CompletableFuture<PeerIdentity> result = new CompletableFuture<>();
    executor.submit(() -> {
      try (listener; SSLSocket socket = (SSLSocket) listener.accept()) {
        socket.setSoTimeout(10_000);
        socket.startHandshake();
        PeerIdentity peer = validator.validate(socket.getSession().getPeerCertificates(),
            EnumSet.of(Role.PARTICIPANT));
        OutputStream out = socket.getOutputStream();
        out.write(socket.getInputStream().read());
        out.flush();
        result.complete(peer);
      } catch (Exception e) {
        result.completeExceptionally(e);
      }
    });
    return result;
  }

  private int port;

  /** Connects as a client with hostname verification of the coordinator's SAN; returns the protocol. */
  private String connect(TlsMaterial material) throws Exception {
    try (SSLSocket socket = (SSLSocket) material.jdkSslContext().getSocketFactory()
        .createSocket("localhost", port)) {
      socket.setSoTimeout(10_000);
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      parameters.setServerNames(List.of(new SNIHostName("localhost")));
      parameters.setProtocols(new String[] {"TLSv1.3"});
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      // In TLS 1.3 the server checks the client certificate after the client's handshake
      // finishes, so a refused client only notices on its first read.
      OutputStream out = socket.getOutputStream();
      out.write(42);
      out.flush();
      InputStream in = socket.getInputStream();
      int echoed = in.read();
      if (echoed != 42) {
        throw new IOException("expected the echoed byte 42 but read " + echoed);
      }
      return socket.getSession().getProtocol();
    }
  }
}
