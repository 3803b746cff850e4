package io.consort.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.identity.CertificateValidator;
import io.consort.certs.CrlFileValidator;
import io.consort.certs.DemoPki;
import io.consort.certs.RevocationReason;
import io.consort.identity.IdentitySigner;
import io.consort.identity.IdentityVerifier;
import io.consort.certs.PemFiles;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.Stage;
import io.consort.spec.JobSpec;
import io.vertx.core.Future;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The secure round against banks running the real secure-aggregation client, without a network:
 * the coordinator learns the weighted mean of the survivors' updates and nothing when too few survive.
 */
class SecureRoundTest {
  static final List<String> BANKS = List.of("bank-1", "bank-2", "bank-3", "bank-4");
  static final float[][] UPDATES = {{0.5f, -1f, 2f}, {1.5f, 0f, -2f}, {-0.5f, 1f, 1f}, {1f, 1f, 1f}};
  static final Map<String, Long> ROWS = Map.of("bank-1", 100L, "bank-2", 300L, "bank-3", 200L, "bank-4", 400L);

  @TempDir
  static Path dir;
  static DemoPki pki;
  static CertificateValidator validator;

  @BeforeAll
  static void pki() throws Exception {
    pki = DemoPki.create(dir.resolve("pki"), "coordinator", BANKS);
    validator = pki.validator();
  }

  private final FakeTimers timers = new FakeTimers();
  private final ModelParameters base = JobFixtures.model(0, 0f, 0f, 0f);

  /** The secure banks of the last {@link #run}, by id. */
  private final Map<String, SecureBank> secureBanks = new java.util.LinkedHashMap<>();

  private RoundOutcome run(JobSpec spec, Map<String, Stage> silentFrom) throws Exception {
    return run(spec, silentFrom, pki, new IdentityVerifier(validator), 1);
  }

  private RoundOutcome run(JobSpec spec, Map<String, Stage> silentFrom, DemoPki pki, IdentityVerifier coordinator)
      throws Exception {
    return run(spec, silentFrom, pki, coordinator, 1);
  }

  private RoundOutcome run(JobSpec spec, Map<String, Stage> silentFrom, DemoPki pki, IdentityVerifier coordinator,
                           int round) throws Exception {
    CertificateValidator validator = pki.validator();
    FakeBanks banks = new FakeBanks();
    for (int b = 0; b < BANKS.size(); b++) {
      String id = BANKS.get(b);
      SecureBank bank = new SecureBank(id, new IdentitySigner(PemFiles.readPrivateKey(pki.bank(id).keyFile())),
          validator, UPDATES[b], silentFrom.get(id), null).withTrainRows(ROWS.get(id));
      secureBanks.put(id, bank);
      banks.bank(id, bank);
      banks.certificate(id, PemFiles.readCertificates(pki.bank(id).chainFile()).get(0));
    }
    JobContext job = JobFixtures.context(spec, banks, timers);
    Future<RoundOutcome> outcome = new SecureRound(job, coordinator)
        .run(new RoundProtocol.RoundInput(round, BANKS, base, ROWS));
    for (int stage = 0; stage < 10 && !outcome.isComplete(); stage++) {
      banks.pump(job.stages());
      if (!outcome.isComplete() && job.stages().open().isPresent()) {
        timers.advance(JobFixtures.DEADLINE.toMillis()); // the silent banks' stage ends at its deadline
      }
    }
    assertTrue(outcome.succeeded(), String.valueOf(outcome.cause()));
    return outcome.result();
  }

  private static double[] weightedMean(List<String> banks) {
    double[] sum = new double[3];
    double total = 0;
    for (String bank : banks) {
      int b = BANKS.indexOf(bank);
      for (int i = 0; i < 3; i++) {
        sum[i] += ROWS.get(bank) * UPDATES[b][i];
      }
      total += ROWS.get(bank);
    }
    for (int i = 0; i < 3; i++) {
      sum[i] /= total;
    }
    return sum;
  }

  private static void assertMean(List<String> banks, RoundOutcome outcome) {
    AggregatedUpdate a = outcome.aggregate().orElseThrow();
    double[] expected = weightedMean(banks);
    double bound = outcome.quantisationErrorBound().orElseThrow();
    for (int i = 0; i < expected.length; i++) {
      double got = a.weightedSum()[i] / a.totalWeight();
      assertTrue(Math.abs(got - expected[i]) <= bound + 1e-6, "coordinate " + i + ": " + got + " vs " + expected[i]);
    }
  }

  @Test
  void coordinatorLearnsTheWeightedMeanOfAllBanks_withinTheQuantisationBound() throws Exception {
    RoundOutcome outcome = run(JobFixtures.spec().secureAggregation(true).build(), Map.of());
    assertEquals(BANKS, outcome.participants());
    assertMean(BANKS, outcome);
  }

  @Test
  void roundOne_carriesNoEvaluation() throws Exception {
    RoundOutcome outcome = run(JobFixtures.spec().secureAggregation(true).build(), Map.of());
    assertTrue(outcome.carriedEvaluation().isEmpty());
    secureBanks.values().forEach(b -> assertTrue(b.summedVectors.isEmpty()));
  }

  /** The survivors' evaluation vectors summed slot by slot in Z_2^32, as the banks put them into the sum. */
  private int[] evaluationSum(List<String> survivors) {
    int[] sum = null;
    for (String bank : survivors) {
      int[] v = secureBanks.get(bank).summedVectors.get(0);
      sum = sum == null ? new int[v.length] : sum;
      for (int i = 0; i < v.length; i++) {
        sum[i] += v[i];
      }
    }
    return sum;
  }

  @Test
  void fromRoundTwo_theOneSumCarriesTheEvaluations_andTheCoordinatorLearnsOnlyTheirSumBesideTheMean() throws Exception {
    // 20 bits: the update is sign-extended into the 32-bit ring the evaluation needs, and reduced back
    for (int bits : new int[] {32, 20}) {
      JobSpec spec = JobFixtures.spec().secureAggregation(true).modulusBits(bits).histogramBins(4).build();
      RoundOutcome outcome = run(spec, Map.of(), pki, new IdentityVerifier(validator), 2);
      assertEquals(BANKS, outcome.participants());
      assertMean(BANKS, outcome);
      RoundOutcome.EvaluationSum evaluation = outcome.carriedEvaluation().orElseThrow();
      assertEquals(4, evaluation.banks());
      assertEquals(io.consort.spec.RoundEvaluation.vectorLength(spec, 0), evaluation.sum().length);
      assertTrue(java.util.Arrays.equals(evaluationSum(BANKS), evaluation.sum()), bits + " bits");
    }
  }

  @Test
  void fromRoundTwo_aBankSilentFromMaskedInput_isInNeitherTheMeanNorTheEvaluation() throws Exception {
    JobSpec spec = JobFixtures.spec().secureAggregation(true).histogramBins(4).build();
    RoundOutcome outcome = run(spec, Map.of("bank-2", Stage.MASKED_INPUT), pki, new IdentityVerifier(validator), 2);
    List<String> survivors = List.of("bank-1", "bank-3", "bank-4");
    assertEquals(survivors, outcome.participants());
    assertMean(survivors, outcome);
    RoundOutcome.EvaluationSum evaluation = outcome.carriedEvaluation().orElseThrow();
    assertEquals(3, evaluation.banks());
    assertTrue(java.util.Arrays.equals(evaluationSum(survivors), evaluation.sum()));
  }

  @Test
  void bankSilentFromMaskedInput_isDroppedThere_andTheSumIsOfTheOthers() throws Exception {
    RoundOutcome outcome = run(JobFixtures.spec().secureAggregation(true).build(),
        Map.of("bank-3", Stage.MASKED_INPUT));
    assertEquals(List.of("bank-1", "bank-2", "bank-4"), outcome.participants());
    assertEquals(List.of("bank-3@masked-input"), outcome.dropouts().stream().map(Dropout::label).toList());
    assertMean(List.of("bank-1", "bank-2", "bank-4"), outcome);
  }

  @Test
  void bankRevokedInTheCoordinatorsCrl_isRefusedAtAdvertiseKeys_andTheSumIsOfTheOthers() throws Exception {
    DemoPki own = DemoPki.create(dir.resolve("revoking-pki"), "coordinator", BANKS);
    var coordinator = own.coordinator();
    IdentityVerifier verifier = new IdentityVerifier(CrlFileValidator.open(coordinator.caFile(), coordinator.crlFile()));
    own.revokeAndPublish("bank-4", RevocationReason.KEY_COMPROMISE); // after the coordinator opened its CRL

    RoundOutcome outcome = run(JobFixtures.spec().secureAggregation(true).build(), Map.of(), own, verifier);

    assertEquals(List.of("bank-1", "bank-2", "bank-3"), outcome.participants());
    Dropout dropout = outcome.dropouts().get(0);
    assertEquals("bank-4@advertise-keys", dropout.label());
    assertTrue(dropout.reason().contains("revoked"), dropout.reason());
    assertMean(List.of("bank-1", "bank-2", "bank-3"), outcome);
  }

  @Test
  void fewerSurvivorsThanTheThreshold_abortsAndUnmasksNothing() throws Exception {
    RoundOutcome outcome = run(JobFixtures.spec().secureAggregation(true).minBanks(3).build(),
        Map.of("bank-1", Stage.SHARE_KEYS, "bank-2", Stage.SHARE_KEYS));
    assertTrue(outcome.aggregate().isEmpty());
    assertTrue(outcome.abortReason().orElseThrow().endsWith("nothing was unmasked"), outcome.abortReason().get());
    assertTrue(outcome.participants().isEmpty());
  }

  @Test
  void fewerMembersThanSecureAggregationNeeds_abortsBeforeAnyTask() throws Exception {
    FakeBanks banks = new FakeBanks().bank("bank-1", task -> java.util.Optional.empty());
    JobContext job = JobFixtures.context(JobFixtures.spec().secureAggregation(true).build(), banks, timers);
    RoundOutcome outcome = new SecureRound(job, new IdentityVerifier(validator))
        .run(new RoundProtocol.RoundInput(1, List.of("bank-1"), base, Map.of())).result();
    assertTrue(outcome.abortReason().orElseThrow().contains("a sum of one bank is that bank's update"));
    assertTrue(banks.posted.isEmpty());
  }
}
