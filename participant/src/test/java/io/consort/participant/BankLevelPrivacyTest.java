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
import io.consort.privacy.ledger.BankNoiseShare;
import io.consort.privacy.ledger.LedgerEntry;
import io.consort.privacy.ledger.LedgerSigning;
import io.consort.privacy.ledger.MechanismRecord;
import io.consort.privacy.ledger.PrivacyLedger;
import io.consort.privacy.ledger.SignedEntryJson;
import io.consort.privacy.ledger.SignedLedgerEntry;
import io.consort.privacy.ledger.SpendCalculator;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.CountersignRequest;
import io.consort.spec.JobSpec;
import io.consort.spec.PrivacyMode;
import io.consort.spec.SecureRoundPlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bank-level DP as the bank checks it: it countersigns a ledger entry only when the bank-level noise it
 * records is exactly the share this bank added and the survivors it revealed its shares for, accounted
 * with the other survivors' shares; its shares and survivors survive a restart; its own bank-level cap
 * holds. Each coordinator lie is performed against the real {@link BankPrivacy}.
 */
class BankLevelPrivacyTest {
  private static final List<String> ROSTER = List.of("bank-1", "bank-2", "bank-3");
  private static final String JOB = "bank-level";
  private static final int ROUND = 1;
  private static final int DIMENSION = 120;

  @TempDir
  Path dir;

  private DemoPki pki;
  private SecureRoundPlan plan;
  private PrivateKey coordinatorKey;
  private X509Certificate coordinatorCertificate;

  @BeforeEach
  void setUp() throws Exception {
    pki = DemoPki.create(dir.resolve("pki"), "coordinator", ROSTER);
    coordinatorKey = PemFiles.readPrivateKey(pki.coordinator().keyFile());
    coordinatorCertificate = PemFiles.readCertificates(pki.coordinator().chainFile()).get(0);
    JobSpec spec = JobSpec.builder().id(JOB).schema(new DataSchema(List.of("x"), List.of(), "y", "yes"))
        .privacy(PrivacyMode.BANK).bankNoiseMultiplier(1.0).secureAggregationClipNorm(1.0).build();
    plan = SecureRoundPlan.derive(spec, ROUND, ROSTER, DIMENSION);
  }

  private ParticipantConfig config(Double bankEpsilonCap) throws Exception {
    TlsMaterial t = pki.bank("bank-1");
    Path data = Files.writeString(dir.resolve("data.csv"), "x,y\n1,yes\n");
    return new ParticipantConfig("localhost", 7443, t.keyFile(), t.chainFile(), t.caFile(), data, dir.resolve("local"),
        3.0, 1e-5, 1 << 20, null, false, t.crlFile(), bankEpsilonCap);
  }

  /** bank-1 took part: it added its share and revealed its shares for {@code survivors}. */
  private BankPrivacy tookPart(List<String> survivors) throws Exception {
    BankPrivacy privacy = new BankPrivacy(config(null));
    long[] share = privacy.noiseShare(plan);
    assertEquals(DIMENSION, share.length);
    privacy.recordSurvivors(JOB, ROUND, survivors);
    return privacy;
  }

  /** The coordinator's entry for the round, signed as the coordinator signs it. */
  private CountersignRequest entry(List<String> banks, MechanismRecord bankNoise) throws Exception {
    LedgerEntry entry = new PrivacyLedger().nextEntry(JOB, ROUND, Instant.now(), banks, 1e-5, List.of(bankNoise),
        "0".repeat(64));
    return request(LedgerSigning.sign(entry, coordinatorKey, coordinatorCertificate));
  }

  private static CountersignRequest request(SignedLedgerEntry signed) {
    return CountersignRequest.newBuilder().setEntryJson(SignedEntryJson.toJson(signed))
        .setEntryHash(signed.entryHash()).build();
  }

  private static void assertRefused(BankPrivacy privacy, CountersignRequest request, String reason) {
    ProtocolViolationException e = assertThrows(ProtocolViolationException.class, () -> privacy.countersign(JOB, request));
    assertTrue(e.getMessage().contains(reason), e.getMessage());
  }

  @Test
  void honestEntry_isCountersigned_withTheOtherSurvivorsSharesAccounted() throws Exception {
    BankPrivacy privacy = tookPart(ROSTER);
    MechanismRecord noise = plan.bankNoiseShare().mechanism(3);

    privacy.countersign(JOB, entry(ROSTER, noise));

    double othersOnly = new SpendCalculator().preview(ROSTER, List.of(noise), 1e-5).get("bank-1").bankEpsilonRound();
    double allThree = new SpendCalculator().preview(SpendCalculator.ACCOUNTING_V1, ROSTER, List.of(noise), 1e-5)
        .get("bank-1").bankEpsilonRound();
    assertTrue(othersOnly > allThree, "two shares protect less than three: " + othersOnly + " vs " + allThree);
  }

  @Test
  void entryOverstatingTheSurvivorCount_isNotCountersigned() throws Exception {
    BankPrivacy privacy = tookPart(List.of("bank-1", "bank-2"));
    // bank-3 dropped; the coordinator claims its share is in the sum anyway (more noise, less epsilon)
    assertRefused(privacy, entry(List.of("bank-1", "bank-2"), plan.bankNoiseShare().mechanism(3)), "computes");
    assertRefused(privacy, entry(ROSTER, plan.bankNoiseShare().mechanism(3)), "revealed its shares for the survivors");
  }

  @Test
  void entryUnderstatingTheSurvivorsNoise_orTheSensitivity_isNotCountersigned() throws Exception {
    BankPrivacy privacy = tookPart(ROSTER);
    BankNoiseShare real = plan.bankNoiseShare();
    BankNoiseShare lessNoise = new BankNoiseShare(real.perBankSigma() / 2, real.threshold(), real.clipNorm(),
        real.l2Sensitivity(), real.dimension());
    BankNoiseShare smallerSensitivity = new BankNoiseShare(real.perBankSigma(), real.threshold(), real.clipNorm(),
        real.l2Sensitivity() / 2, real.dimension());

    assertRefused(privacy, entry(ROSTER, lessNoise.mechanism(3)), "sigma " + real.perBankSigma());
    assertRefused(privacy, entry(ROSTER, smallerSensitivity.mechanism(3)), "L2 sensitivity " + real.l2Sensitivity());
  }

  @Test
  void entryAccountingAllSurvivorsShares_isNotCountersigned() throws Exception {
    BankPrivacy privacy = tookPart(ROSTER);
    MechanismRecord noise = plan.bankNoiseShare().mechanism(3);
    LedgerEntry honest = new PrivacyLedger().nextEntry(JOB, ROUND, Instant.now(), ROSTER, 1e-5, List.of(noise),
        "0".repeat(64));
    // the old accounting counts bank-1's own share, which bank-2 (or bank-3) can remove
    LedgerEntry v1 = new LedgerEntry(honest.sequence(), JOB, ROUND, honest.timestamp(), ROSTER, 1e-5,
        SpendCalculator.ACCOUNTING_V1, List.of(noise),
        new SpendCalculator().preview(SpendCalculator.ACCOUNTING_V1, ROSTER, List.of(noise), 1e-5), "0".repeat(64),
        honest.previousHash());

    assertRefused(privacy, request(LedgerSigning.sign(v1, coordinatorKey, coordinatorCertificate)),
        "countersigns only " + SpendCalculator.ACCOUNTING);
  }

  @Test
  void entryWithoutTheBankLevelNoiseThisBankAdded_isNotCountersigned() throws Exception {
    BankPrivacy privacy = tookPart(ROSTER);
    LedgerEntry none = new PrivacyLedger().nextEntry(JOB, ROUND, Instant.now(), ROSTER, 1e-5, List.of(),
        "0".repeat(64));
    assertRefused(privacy, request(LedgerSigning.sign(none, coordinatorKey, coordinatorCertificate)),
        "records bank-level noise []");
  }

  @Test
  void noiseSharesAndSurvivors_surviveARestart() throws Exception {
    tookPart(ROSTER);

    BankPrivacy restarted = new BankPrivacy(config(null));
    restarted.countersign(JOB, entry(ROSTER, plan.bankNoiseShare().mechanism(3)));

    BankPrivacy forgotNothing = new BankPrivacy(config(null));
    assertRefused(forgotNothing, entry(ROSTER, plan.bankNoiseShare().mechanism(2)), "computes");
  }

  @Test
  void bankLevelRound_isDeclined_whenItCouldPassTheBanksOwnBankLevelCap_alsoAfterARestart() throws Exception {
    var worstCase = plan.bankNoiseShare().worstCaseEvent();
    double one = RdpAccountant.defaults().epsilon(List.of(worstCase), 1e-5);
    double two = RdpAccountant.defaults().epsilon(List.of(worstCase, worstCase), 1e-5);
    // a cap that allows one round at its worst case (t survivors), but not two
    double cap = (one + two) / 2;
    BankPrivacy privacy = new BankPrivacy(config(cap));
    privacy.checkBankRound(plan);
    privacy.noiseShare(plan);

    PrivacyBudgetExceededException e = assertThrows(PrivacyBudgetExceededException.class,
        () -> privacy.checkBankRound(plan));
    assertTrue(e.getMessage().startsWith("bank level: "), e.getMessage());
    assertEquals(cap, e.capEpsilon());
    BankPrivacy restarted = new BankPrivacy(config(cap));
    assertThrows(PrivacyBudgetExceededException.class, () -> restarted.checkBankRound(plan));
  }
}
