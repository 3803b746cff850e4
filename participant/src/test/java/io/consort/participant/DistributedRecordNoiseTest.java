package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.DemoPki;
import io.consort.certs.PemFiles;
import io.consort.certs.TlsMaterial;
import io.consort.model.data.DataSchema;
import io.consort.privacy.PrivacyBudgetExceededException;
import io.consort.privacy.accounting.RdpAccountant;
import io.consort.privacy.ledger.LedgerEntry;
import io.consort.privacy.ledger.LedgerSigning;
import io.consort.privacy.ledger.MechanismKind;
import io.consort.privacy.ledger.MechanismRecord;
import io.consort.privacy.ledger.PrivacyLedger;
import io.consort.privacy.ledger.PrivacyUnit;
import io.consort.privacy.ledger.RecordNoiseShare;
import io.consort.privacy.ledger.SignedEntryJson;
import io.consort.privacy.ledger.SignedLedgerEntry;
import io.consort.privacy.ledger.SpendCalculator;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.CountersignRequest;
import io.consort.secagg.Quantizer;
import io.consort.spec.JobSpec;
import io.consort.spec.PrivacyMode;
import io.consort.spec.SecureRoundPlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Distributed record-level noise as a bank checks and accounts it: its share is sized from the plan it
 * pinned (never from a task), the ledger entry it countersigns must account exactly the survivors it
 * revealed its shares for minus the colluders the plan allows for, its shares survive a restart and
 * count against its own cap, and the unmasked sum carries the noise the ledger states. Each coordinator
 * lie is performed against the real {@link BankPrivacy} and {@link SecureRoundPlan}.
 */
class DistributedRecordNoiseTest {
  private static final List<String> ROSTER = List.of("bank-1", "bank-2", "bank-3", "bank-4", "bank-5");
  private static final String JOB = "distributed";
  private static final int ROUND = 1;
  private static final int DIMENSION = 120;

  @TempDir
  Path dir;

  private DemoPki pki;
  private JobSpec spec;
  private SecureRoundPlan plan;
  private PrivateKey coordinatorKey;
  private X509Certificate coordinatorCertificate;

  @BeforeEach
  void setUp() throws Exception {
    pki = DemoPki.create(dir.resolve("pki"), "coordinator", ROSTER);
    coordinatorKey = PemFiles.readPrivateKey(pki.coordinator().keyFile());
    coordinatorCertificate = PemFiles.readCertificates(pki.coordinator().chainFile()).get(0);
    spec = spec(1);
    plan = SecureRoundPlan.derive(spec, ROUND, ROSTER, DIMENSION);
  }

  private static JobSpec spec(int colluders) {
    return JobSpec.builder().id(JOB).schema(new DataSchema(List.of("x"), List.of(), "y", "yes"))
        .privacy(PrivacyMode.RECORD).recordNoiseMultiplier(1.0).distributedRecordNoise(true).colludingBanks(colluders)
        .recordSamplingRate(0.01).minBanks(3).build();
  }

  private ParticipantConfig config(double epsilonCap) throws Exception {
    TlsMaterial t = pki.bank("bank-1");
    Path data = Files.writeString(dir.resolve("data.csv"), "x,y\n1,yes\n");
    return new ParticipantConfig("localhost", 7443, t.keyFile(), t.chainFile(), t.caFile(), data, dir.resolve("local"),
        epsilonCap, 1e-5, 1 << 20, null, false, t.crlFile(), null);
  }

  /** bank-1 took part: it added its share and revealed its shares for {@code survivors}. */
  private BankPrivacy tookPart(List<String> survivors) throws Exception {
    BankPrivacy privacy = new BankPrivacy(config(100));
    assertEquals(DIMENSION, privacy.recordNoiseShare(plan).length);
    privacy.recordSurvivors(JOB, ROUND, survivors);
    return privacy;
  }

  private CountersignRequest entry(List<String> banks, List<MechanismRecord> mechanisms) throws Exception {
    LedgerEntry entry = new PrivacyLedger().nextEntry(JOB, ROUND, Instant.now(), banks, 1e-5, mechanisms,
        "0".repeat(64));
    SignedLedgerEntry signed = LedgerSigning.sign(entry, coordinatorKey, coordinatorCertificate);
    return CountersignRequest.newBuilder().setEntryJson(SignedEntryJson.toJson(signed))
        .setEntryHash(signed.entryHash()).build();
  }

  /** What an honest coordinator records: each survivor's step with the survivors' shares less the colluders'. */
  private static List<MechanismRecord> honest(RecordNoiseShare share, List<String> survivors) {
    return survivors.stream().map(b -> share.mechanism(b, survivors.size())).toList();
  }

  private static void assertRefused(BankPrivacy privacy, CountersignRequest request, String reason) {
    ProtocolViolationException e = assertThrows(ProtocolViolationException.class, () -> privacy.countersign(JOB, request));
    assertTrue(e.getMessage().contains(reason), e.getMessage());
  }

  private static double epsilon(MechanismRecord m) {
    return RdpAccountant.defaults().epsilon(List.of(m.toEvent(SpendCalculator.ACCOUNTING)), 1e-5);
  }

  @Test
  void sharesAreSizedForTheThresholdLessTheColluders_soTheWorstCaseCarriesTheJobsNoise() {
    RecordNoiseShare share = plan.recordNoise();
    // five banks, min_banks 3: majority threshold 3; one colluder: two shares must carry z Delta2
    assertEquals(3, share.threshold());
    assertEquals(1, share.colluders());
    assertEquals(1.0 * share.l2Sensitivity() / Math.sqrt(2), share.perBankSigma(), 1e-9 * share.perBankSigma());
    assertEquals(1.0, share.effectiveNoiseMultiplier(3), 1e-12);
    assertEquals(Math.sqrt(4.0 / 2), share.effectiveNoiseMultiplier(5), 1e-12);
    // Delta2 = C s + sqrt(d): the per-example clip at the quantiser's scale, plus rounding
    Quantizer q = plan.quantizer();
    assertEquals(spec.privacy().record().orElseThrow().clipNorm() * q.scale() + Math.sqrt(DIMENSION),
        share.l2Sensitivity(), 1e-6);
    // two colluders: the same threshold must carry the noise with one share
    RecordNoiseShare two = SecureRoundPlan.derive(spec(2), ROUND, ROSTER, DIMENSION).recordNoise();
    assertEquals(share.perBankSigma() * Math.sqrt(2), two.perBankSigma(), 1e-9 * two.perBankSigma());
  }

  @Test
  void honestEntry_isCountersigned_andDropoutsCostTheBankMore() throws Exception {
    BankPrivacy privacy = tookPart(ROSTER);
    privacy.countersign(JOB, entry(ROSTER, honest(plan.recordNoise(), ROSTER)));

    List<String> four = ROSTER.subList(0, 4);
    BankPrivacy other = new BankPrivacy(config(100));
    // a round where bank-5 dropped: its share never reached the sum, so the step is accounted with three
    double all = epsilon(plan.recordNoise().mechanism("bank-1", 5));
    double afterDropout = epsilon(plan.recordNoise().mechanism("bank-1", 4));
    double atThreshold = epsilon(plan.recordNoise().mechanism("bank-1", 3));
    assertTrue(all < afterDropout && afterDropout < atThreshold, all + " " + afterDropout + " " + atThreshold);
    assertEquals(RdpAccountant.defaults().epsilon(List.of(new io.consort.privacy.accounting.SampledGaussianEvent(
        1.0, 0.01, 1)), 1e-5), atThreshold, 1e-9, "at the threshold the step costs exactly the job's z");
  }

  @Test
  void entryOverstatingTheSurvivors_isNotCountersigned() throws Exception {
    List<String> four = ROSTER.subList(0, 4);
    BankPrivacy privacy = tookPart(four);
    // bank-5 dropped; the coordinator claims its share reached the sum (more noise, less epsilon)
    assertRefused(privacy, entry(four, honest(plan.recordNoise(), ROSTER).subList(0, 4)), "computes");
    assertRefused(privacy, entry(ROSTER, honest(plan.recordNoise(), ROSTER)), "revealed its shares for the survivors");
    privacy.countersign(JOB, entry(four, honest(plan.recordNoise(), four)));
  }

  @Test
  void entryCountingTheColludersShares_orASmallerSensitivity_isNotCountersigned() throws Exception {
    BankPrivacy privacy = tookPart(ROSTER);
    RecordNoiseShare s = plan.recordNoise();
    // every survivor's share counted (k = 0): against bank-2, which knows its own share, that is a lie
    List<MechanismRecord> allShares = new ArrayList<>();
    for (String bank : ROSTER) {
      allShares.add(new MechanismRecord(PrivacyUnit.RECORD, bank, MechanismKind.DISTRIBUTED_SAMPLED_GAUSSIAN,
          Math.sqrt(5) * s.perBankSigma() / s.l2Sensitivity(), s.samplingRate(), 1, s.clipNorm(),
          Math.sqrt(5) * s.perBankSigma(), s.perBankSigma(), 5, s.l2Sensitivity(), 0, s.dimension()));
    }
    assertRefused(privacy, entry(ROSTER, allShares), "1 colluding banks");
    RecordNoiseShare smaller = new RecordNoiseShare(s.perBankSigma() / 2, s.threshold(), s.colluders(),
        s.samplingRate(), s.clipNorm(), s.l2Sensitivity() / 2, s.dimension());
    assertRefused(privacy, entry(ROSTER, honest(smaller, ROSTER)), "L2 sensitivity " + s.l2Sensitivity());
    // an entry that leaves the step out, or records it as local DP-SGD, is refused too
    assertRefused(privacy, entry(ROSTER, List.of()), "records record-level mechanisms []");
  }

  @Test
  void aCoordinatorClaimingMoreBanks_cannotMakeTheBankAddLessNoise() {
    // nine banks would give threshold 5 and shares of z Delta2 / 2: the task says so, the bank refuses it
    List<String> nine = new ArrayList<>(ROSTER);
    for (int i = 6; i <= 9; i++) {
      nine.add("bank-" + i);
    }
    SecureRoundPlan inflated = SecureRoundPlan.derive(spec, ROUND, nine, DIMENSION);
    assertTrue(inflated.perBankSigma() < plan.perBankSigma());
    var lyingTask = plan.toTask(spec).toBuilder().setPerBankSigma(inflated.perBankSigma()).build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> plan.checkTask(spec, lyingTask));
    assertTrue(e.getMessage().contains("per_bank_sigma"), e.getMessage());
    // and what the bank adds is what it derives from its pinned plan and the roster, whatever the task said
    assertEquals(plan.recordNoise(), SecureRoundPlan.derive(spec, ROUND, ROSTER, DIMENSION).recordNoise());
    // a plan that allows for as many colluders as the smallest threshold is refused outright
    assertThrows(io.consort.spec.InvalidJobSpecException.class, () -> spec(3));
  }

  @Test
  void sharesAndSurvivors_surviveARestart_andCountAgainstTheBanksCap() throws Exception {
    double oneStep = RdpAccountant.defaults().epsilon(List.of(plan.recordNoise().worstCaseEvent()), 1e-5);
    double twoSteps = RdpAccountant.defaults().epsilon(List.of(plan.recordNoise().worstCaseEvent(),
        plan.recordNoise().worstCaseEvent()), 1e-5);
    double cap = (oneStep + twoSteps) / 2;
    BankPrivacy privacy = new BankPrivacy(config(cap));
    privacy.checkDistributedRound(plan);
    privacy.recordNoiseShare(plan);
    assertThrows(PrivacyBudgetExceededException.class, () -> privacy.checkDistributedRound(plan));

    BankPrivacy restarted = new BankPrivacy(config(cap));
    assertThrows(PrivacyBudgetExceededException.class, () -> restarted.checkDistributedRound(plan));
    restarted.recordSurvivors(JOB, ROUND, ROSTER);
    BankPrivacy again = new BankPrivacy(config(cap));
    // with five survivors known, the first step is accounted with four shares, less than its worst case,
    // which leaves room for a second step at its worst case under this cap
    double known = RdpAccountant.defaults().epsilon(List.of(plan.recordNoise().event(5),
        plan.recordNoise().worstCaseEvent()), 1e-5);
    assertTrue(known <= cap, known + " vs cap " + cap);
    again.checkDistributedRound(plan);
    assertRefused(again, entry(ROSTER, honest(plan.recordNoise(), ROSTER).stream()
        .map(m -> m.bankId().equals("bank-1") ? plan.recordNoise().mechanism("bank-1", 4) : m).toList()), "computes");
  }

  /**
   * The unmasked sum of the survivors' inputs (zero gradients, so only noise) has per-coordinate variance
   * m sigma_i^2, the noise the ledger states (sigma_i sqrt(m)); a dropped bank's share is absent. The sample
   * standard deviation over N = 4000 coordinates of the sum has relative standard deviation about
   * sqrt(1 / (2N)) = 1.1%; the test allows 6% (over 5 standard deviations, two-sided), so it fails by chance
   * with probability below 1e-6 per assertion (the shares come from the bank's own SecureRandom, as in production).
   */
  @Test
  void theUnmaskedSum_carriesTheNoiseTheLedgerStates() throws Exception {
    int d = 4000;
    SecureRoundPlan big = SecureRoundPlan.derive(spec, ROUND, ROSTER, d);
    RecordNoiseShare share = big.recordNoise();
    SecureRandom random = SecureRandom.getInstance("SHA1PRNG");
    random.setSeed(15);
    List<String> survivors = ROSTER.subList(0, 4);
    long[] sum = new long[d];
    for (String bank : survivors) {
      BankPrivacy privacy = new BankPrivacy(config(100));
      int[] input = big.quantizer().encode(new float[d], random);
      long[] noise = privacy.recordNoiseShare(big);
      for (int i = 0; i < d; i++) {
        sum[i] = (sum[i] + input[i] + noise[i]) & 0xffffffffL;
      }
    }
    int[] ring = new int[d];
    for (int i = 0; i < d; i++) {
      ring[i] = (int) sum[i];
    }
    double[] decoded = big.quantizer().decodeSum(ring);
    double squares = 0;
    for (double v : decoded) {
      squares += v * big.quantizer().scale() * v * big.quantizer().scale();
    }
    double measured = Math.sqrt(squares / d);
    MechanismRecord stated = share.mechanism("bank-1", survivors.size());
    assertEquals(stated.noiseStddev(), measured, 0.06 * stated.noiseStddev(),
        "the sum of four shares has standard deviation sigma_i * 2");
    // accounting counts three of the four (one colluder): z_eff = sqrt(3) sigma_i / Delta2
    assertEquals(measured * Math.sqrt(3.0 / 4) / share.l2Sensitivity(), stated.noiseMultiplier(),
        0.06 * stated.noiseMultiplier());
  }
}
