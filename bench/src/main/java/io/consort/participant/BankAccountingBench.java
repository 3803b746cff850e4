package io.consort.participant;

import io.consort.certs.DemoPki;
import io.consort.certs.PemFiles;
import io.consort.certs.TlsMaterial;
import io.consort.privacy.accounting.LocalTrainingPlan;
import io.consort.privacy.accounting.PrivacyEvent;
import io.consort.privacy.budget.BudgetGuard;
import io.consort.privacy.budget.PrivacyBudget;
import io.consort.privacy.ledger.BankSpend;
import io.consort.privacy.ledger.LedgerEntry;
import io.consort.privacy.ledger.LocalLedgerStore;
import io.consort.privacy.ledger.MechanismRecord;
import io.consort.privacy.ledger.PrivacyLedger;
import io.consort.privacy.ledger.SignedEntryJson;
import io.consort.privacy.ledger.SignedLedgerEntry;
import io.consort.privacy.ledger.SpendCalculator;
import io.consort.protocol.v1.CountersignRequest;
import io.consort.protocol.v1.DpReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A bank's accounting per round against the length of its history, the way it was (re-read and replay
 * the ledger copy, compose every past event) and the way it is (state kept in memory, updated per
 * append), in the same JVM on the same files. For each history length N the bank first countersigns
 * N rounds of a 5-bank record-level job through {@link BankPrivacy} (real entries, signatures and
 * fsyncs), then times, median of {@code REPS} after warm-up:
 * <ul>
 *   <li>countersign accounting, before: {@code LocalLedgerStore.readAll} + {@code SpendCalculator.replay}
 *       + preview (what {@code countersign} did), plus the second {@code readAll} its append did;
 *   <li>countersign accounting, after: {@link LocalLedgerStore#previewSpend} on the store opened once;
 *   <li>budget check, before: {@link BudgetGuard#evaluate(List, PrivacyEvent)} over the journal's events;
 *   <li>budget check, after: {@link BudgetGuard#evaluate(double[], PrivacyEvent)} over its kept curve;
 *   <li>for context, a whole {@link BankPrivacy#countersign} now (checks, ECDSA signature, append and
 *       fsync; each adds one entry, so the history grows by REPS while it is timed).
 * </ul>
 * Arguments: history lengths (default 10 100 1000; repeat them for a warm second pass). Prints one line
 * per length.
 */
public final class BankAccountingBench {
  private static final int REPS = 31;
  private static final int WARMUP = 15;
  private static final List<String> BANKS = List.of("bank-1", "bank-2", "bank-3", "bank-4", "bank-5");
  private static final LocalTrainingPlan PLAN = new LocalTrainingPlan(200, 32, 1, 1.1);

  private BankAccountingBench() {}

  public static void main(String[] args) throws Exception {
    int[] lengths = args.length == 0 ? new int[] {10, 100, 1000} : Arrays.stream(args).mapToInt(Integer::parseInt)
        .toArray();
    Path tmp = Files.createTempDirectory("bank-accounting");
    DemoPki pki = DemoPki.create(tmp.resolve("pki"), "coordinator", BANKS);
    PrivateKey coordinatorKey = PemFiles.readPrivateKey(pki.coordinator().keyFile());
    X509Certificate coordinatorCert = PemFiles.readCertificates(pki.coordinator().certificateFile()).get(0);
    TlsMaterial bank = pki.bank("bank-1");
    Path data = Files.writeString(tmp.resolve("data.csv"), "x,y\n1,a\n");
    System.out.println("history  countersign-acct before  after  ratio | budget before  after  ratio"
        + " | whole countersign now (ms, medians)");
    for (int pass = 0; pass < lengths.length; pass++) {
      int n = lengths[pass];
      Path dataDir = tmp.resolve("bank-" + pass + "-" + n); // a fresh bank for every length
      ParticipantConfig config = new ParticipantConfig("localhost", 1, bank.keyFile(), bank.chainFile(),
          bank.caFile(), data, dataDir, 1e9, 1e-5, 1 << 20, null, false);
      BankPrivacy privacy = new BankPrivacy(config);
      PrivacyLedger ledger = new PrivacyLedger();
      DpReport report = DpReport.newBuilder().setNoiseMultiplier(PLAN.noiseMultiplier())
          .setSamplingRate(PLAN.samplingRate()).setSteps(PLAN.steps()).setClipNorm(1.0).setRows(PLAN.rows()).build();
      for (int r = 1; r <= n; r++) {
        round(privacy, ledger, report, r, coordinatorKey, coordinatorCert);
      }
      List<MechanismRecord> next = mechanisms();
      LocalLedgerStore store = new LocalLedgerStore(dataDir, "bank-1"); // the daemon opens it once
      SpendJournal journal = new SpendJournal(dataDir);
      BudgetGuard guard = new BudgetGuard(new PrivacyBudget(1e9, 1e-5));
      PrivacyEvent proposed = PLAN.event();
      double oldAcct = median(() -> {
        List<LedgerEntry> history = new ArrayList<>();
        for (SignedLedgerEntry e : store.readAll()) {
          history.add(e.entry());
        }
        BankSpend s = SpendCalculator.replay(history).preview(List.of("bank-1"), next, 1e-5).get("bank-1");
        store.readAll(); // the old append's sequence check
        sink += s.recordEpsilonTotal();
      });
      double newAcct = median(() -> sink += store.previewSpend(next, 1e-5).recordEpsilonTotal());
      double oldBudget = median(() -> sink += guard.evaluate(journal.events(), proposed).projectedEpsilon());
      double newBudget = median(() -> sink += guard.evaluate(journal.rdp(), proposed).projectedEpsilon());
      int[] r = {n};
      double whole = median(() -> round(privacy, ledger, report, ++r[0], coordinatorKey, coordinatorCert));
      System.out.printf(Locale.ROOT, "%7d  %10.3f  %8.4f  %7.0fx | %8.3f  %8.4f  %6.0fx | %8.3f%n", n, oldAcct, newAcct,
          oldAcct / newAcct, oldBudget, newBudget, oldBudget / newBudget, whole);
    }
    if (sink == 42.0) {
      System.out.println(); // keeps the timed work live
    }
  }

  private static double sink;

  private interface Work {
    void run() throws Exception;
  }

  /** Median milliseconds of {@link #REPS} runs after {@link #WARMUP}. */
  private static double median(Work work) throws Exception {
    for (int i = 0; i < WARMUP; i++) {
      work.run();
    }
    double[] ms = new double[REPS];
    for (int i = 0; i < REPS; i++) {
      long t = System.nanoTime();
      work.run();
      ms[i] = (System.nanoTime() - t) / 1e6;
    }
    Arrays.sort(ms);
    return ms[REPS / 2];
  }

  private static List<MechanismRecord> mechanisms() {
    List<MechanismRecord> mechanisms = new ArrayList<>();
    for (String b : BANKS) {
      mechanisms.add(MechanismRecord.dpSgd(b, PLAN, 1.0));
    }
    return mechanisms;
  }

  /** One round: the bank runs and records DP-SGD, the coordinator enters it, the bank countersigns. */
  private static void round(BankPrivacy privacy, PrivacyLedger ledger, DpReport report, int r, PrivateKey key,
      X509Certificate cert) throws Exception {
    privacy.recordRun("job", r, report);
    LedgerEntry entry = ledger.nextEntry("job", r, Instant.parse("2026-12-03T10:00:00Z").plusSeconds(r), BANKS,
        1e-5, mechanisms(), String.format("%064x", r));
    SignedLedgerEntry signed = io.consort.privacy.ledger.LedgerSigning.sign(entry, key, cert);
    privacy.countersign("job", CountersignRequest.newBuilder().setEntryJson(SignedEntryJson.toJson(signed))
        .setEntryHash(signed.entryHash()).build());
    ledger.append(signed);
  }
}
