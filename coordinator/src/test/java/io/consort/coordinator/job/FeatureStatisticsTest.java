package io.consort.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.DemoPki;
import io.consort.coordinator.model.FederatedModelOps;
import io.consort.identity.CertificateValidator;
import io.consort.identity.IdentitySigner;
import io.consort.identity.IdentityVerifier;
import io.consort.certs.PemFiles;
import io.consort.model.data.DataSchema;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.v1.FeatureStats;
import io.consort.spec.JobSpec;
import io.vertx.core.Future;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Under secure aggregation the coordinator learns the consortium's feature statistics and not one
 * bank's: what reaches it in the clear has no numeric statistics, and the encoding it builds from the
 * secure sum is the one the banks' statistics merged directly would give.
 */
class FeatureStatisticsTest {
  private static final List<String> BANKS = List.of("bank-1", "bank-2", "bank-3");
  private static final DataSchema SCHEMA = new DataSchema(List.of("income"),
      List.of(DataSchema.CategoricalColumn.open("purpose")), "default", "yes");

  @TempDir
  static Path dir;
  static DemoPki pki;
  static CertificateValidator validator;

  @BeforeAll
  static void pki() throws Exception {
    pki = DemoPki.create(dir.resolve("pki"), "coordinator", BANKS);
    validator = pki.validator();
  }

  private static LocalFeatureStats bank(long rows, double sum, double sumOfSquares, String... purposes) {
    TreeMap<String, Long> counts = new TreeMap<>();
    for (String p : purposes) {
      counts.put(p, 10L);
    }
    return new LocalFeatureStats(SCHEMA, rows, rows / 3,
        List.of(new LocalFeatureStats.NumericStats("income", rows, sum, sumOfSquares)), List.of(counts));
  }

  @Test
  void theCoordinatorGetsTheConsortiumsStatistics_andNoBanksOwn() throws Exception {
    List<LocalFeatureStats> truth = List.of(bank(300, 1.2e7, 6.1e11, "car"), bank(500, 2.9e7, 2.2e12, "car", "tv"),
        bank(120, 6.0e6, 3.9e11, "education"));
    FakeBanks banks = new FakeBanks();
    List<FeatureStats> clearAnswers = new ArrayList<>();
    for (int b = 0; b < BANKS.size(); b++) {
      String id = BANKS.get(b);
      // what a bank says in the clear: row counts and category names, no numeric statistics
      FeatureStats clear = ModelWire.stats(truth.get(b), truth.get(b).rows() * 4 / 5, truth.get(b).rows() / 5)
          .toBuilder().clearNumeric().setRows(0).setPositives(0).build();
      clearAnswers.add(clear);
      banks.bank(id, new SecureBank(id, new IdentitySigner(PemFiles.readPrivateKey(pki.bank(id).keyFile())),
          validator, new float[1], null, null).withStatistics(clear, truth.get(b)));
      banks.certificate(id, PemFiles.readCertificates(pki.bank(id).chainFile()).get(0));
    }
    FakeTimers timers = new FakeTimers();
    JobSpec spec = JobSpec.builder().id("stats").schema(SCHEMA).minBanks(2).build();
    JobContext job = JobFixtures.context(spec, banks, timers);
    Future<FeatureStatistics.Result> result = new FeatureStatistics(job, new FederatedModelOps(),
        new IdentityVerifier(validator)).gather(BANKS);
    for (int stage = 0; stage < 10 && !result.isComplete(); stage++) {
      banks.pump(job.stages());
    }
    assertTrue(result.succeeded(), String.valueOf(result.cause()));
    for (Map.Entry<String, io.consort.protocol.v1.Task> posted : banks.posted) {
      assertTrue(!posted.getValue().hasFeatureStats() || posted.getValue().getFeatureStats().getRoundMembersCount() == 3,
          "the statistics task names the secure sum's roster");
    }
    assertEquals(clearAnswers, result.result().banks().values().stream()
        .map(s -> s.toBuilder().clearSecureSum().build()).toList(), "what the coordinator keeps of each bank");
    FeatureEncoding direct = FeatureEncoding.merge(truth);
    FeatureEncoding viaSum = ModelWire.encoding(SCHEMA, result.result().encoding());
    assertArrayEquals(direct.means(), viaSum.means(), 1e-9);
    assertArrayEquals(direct.stds(), viaSum.stds(), 1e-6);
    assertEquals(List.of("car", "education", "tv"), viaSum.categories().get(0));
  }
}
