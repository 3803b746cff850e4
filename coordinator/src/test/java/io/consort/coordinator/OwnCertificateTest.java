package io.consort.coordinator;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.CertificateAuthority;
import io.consort.certs.CertificateRequests;
import io.consort.certs.DemoPki;
import io.consort.certs.RevocationReason;
import io.consort.certs.TlsMaterial;
import io.consort.coordinator.job.JobDefinition;
import io.consort.identity.KeyAlgorithm;
import io.consort.identity.Role;
import io.consort.model.data.DataSchema;
import io.consort.spec.JobSpec;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A coordinator refuses to start with a certificate of its own that the consortium refuses (issue 14, finding 3). */
class OwnCertificateTest {
  @TempDir
  Path dir;

  @Test
  void coordinator_refusesToStart_whenItsOwnCertificateIsRevoked() throws Exception {
    DemoPki pki = DemoPki.create(dir.resolve("pki"), "coordinator", List.of("bank-1"));
    pki.revokeAndPublish("coordinator", RevocationReason.KEY_COMPROMISE);
    String failure = startFailure(pki.coordinator());
    assertTrue(failure.contains("own certificate") && failure.contains("revoked"), failure);
    assertTrue(Files.notExists(dir.resolve("data").resolve("ports.json")), "it listened");
  }

  @Test
  void coordinator_refusesToStart_whenItsOwnCertificateHasExpired() throws Exception {
    DemoPki pki = DemoPki.create(dir.resolve("pki"), "coordinator", List.of("bank-1"));
    // the same CA with a clock three days back signs a certificate valid for one day: expired by now
    CertificateAuthority past = CertificateAuthority.load(pki.directory().resolve("ca"),
        Clock.fixed(Instant.now().minus(Duration.ofDays(3)), ZoneOffset.UTC));
    Path identity = dir.resolve("old-coordinator");
    CertificateRequests.CertificateRequest request = CertificateRequests.create(identity, "coordinator",
        KeyAlgorithm.EC_P256);
    X509Certificate expired = past.sign(request.csr(), Role.COORDINATOR, Duration.ofDays(1), List.of("localhost"),
        List.of("127.0.0.1"));
    TlsMaterial material = TlsMaterial.inDirectory(identity)
        .writeCertificates(expired, pki.authority().certificate(), pki.authority().currentCrl());
    String failure = startFailure(material);
    assertTrue(failure.contains("own certificate") && failure.contains("expired"), failure);
  }

  private String startFailure(TlsMaterial c) throws Exception {
    JobSpec plan = JobSpec.builder().id("job-1").rounds(1).minBanks(1)
        .schema(new DataSchema(List.of("x"), List.of(), "y", "1")).build();
    CoordinatorConfig config = new CoordinatorConfig("127.0.0.1", 0, c.keyFile(), c.chainFile(), c.caFile(),
        c.crlFile(), dir.resolve("data"), 1 << 20, Duration.ofSeconds(1), false,
        new JobDefinition(plan, 1, Duration.ofMinutes(1), Duration.ofSeconds(30)), -1);
    Vertx vertx = Vertx.vertx();
    try {
      Exception e = assertThrows(Exception.class, () -> vertx.deployVerticle(
          new CoordinatorService(config, new TestCoordinator.UnusedModelOps())).await(30, TimeUnit.SECONDS));
      return String.valueOf(e.getMessage());
    } finally {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }
}
