package io.consort.participant;

import io.consort.certs.PemFiles;
import io.consort.identity.PeerIdentity;
import io.consort.model.random.BulkSecureRandom;
import io.consort.privacy.PrivacyBudgetExceededException;
import io.consort.privacy.accounting.LocalTrainingPlan;
import io.consort.privacy.accounting.PrivacyEvent;
import io.consort.privacy.accounting.SampledGaussianEvent;
import io.consort.privacy.budget.BudgetDecision;
import io.consort.privacy.budget.BudgetGuard;
import io.consort.privacy.budget.PrivacyBudget;
import io.consort.privacy.ledger.BankNoiseShare;
import io.consort.privacy.ledger.RecordNoiseShare;
import io.consort.privacy.ledger.BankSpend;
import io.consort.privacy.ledger.LedgerEntry;
import io.consort.privacy.ledger.LedgerFormatException;
import io.consort.privacy.ledger.LedgerSignature;
import io.consort.privacy.ledger.LedgerSigning;
import io.consort.privacy.ledger.LocalLedgerStore;
import io.consort.privacy.ledger.MechanismRecord;
import io.consort.privacy.ledger.PrivacyUnit;
import io.consort.privacy.ledger.SignedEntryJson;
import io.consort.privacy.ledger.SignedLedgerEntry;
import io.consort.privacy.ledger.SpendCalculator;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.Countersignature;
import io.consort.protocol.v1.CountersignRequest;
import io.consort.protocol.v1.DpReport;
import io.consort.spec.JobSpec;
import io.consort.spec.PrivacySpec;
import io.consort.spec.SecureRoundPlan;
import io.consort.privacy.noise.DiscreteGaussianSampler;
import java.security.SecureRandom;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bank's own privacy accounting, which the coordinator cannot override: it turns the job's
 * target into this bank's DP-SGD noise (its own rows, its own sampling rate), previews the whole
 * job's cost before accepting, checks every round against the bank's cap before training, and
 * countersigns a ledger entry only when the spend it records is what this bank computes itself.
 * Its copy of every entry it countersigned lives in its data directory. The copy and its journals are read
 * once and then kept in memory with their composed RDP curves, so a check or countersignature replays no
 * history; a restart reads the files again.
 */
final class BankPrivacy {
  private static final Logger log = LoggerFactory.getLogger(BankPrivacy.class);

  private final String bankId;
  private final PrivateKey key;
  private final X509Certificate certificate;
  private final PrivacyBudget budget;
  private final BudgetGuard guard;
  private final LocalLedgerStore ledger;
  /** What this bank actually ran and sent, durable: its own measure of its spend. */
  private final SpendJournal journal;
  /** The bank-level noise shares this bank added and the survivors it saw, durable. */
  private final NoiseShareJournal noise;
  /** The bank's own bank-level cap, if it set one. */
  private final BudgetGuard bankGuard;
  /**
   * Forces spend-journal entries and ledger-copy appends to disk beside the task's computation
   * ({@link #recordRunAhead}, {@link #countersignAhead}): one daemon thread of the bank's own, never a Vert.x
   * event loop; started on first use.
   */
  private java.util.concurrent.Executor journalWriter;
  /** The spend-journal entry being forced to disk, or null; the journal is read or written again only after it. */
  private java.util.concurrent.CompletableFuture<Void> pendingRun;
  /** The ledger-copy append being forced to disk, or null; the copy is read or written again only after it. */
  private java.util.concurrent.CompletableFuture<Void> pendingCopy;

  BankPrivacy(ParticipantConfig config) {
    try {
      this.certificate = PemFiles.readCertificates(config.certFile()).get(0);
      this.key = PemFiles.readPrivateKey(config.keyFile());
      this.bankId = PeerIdentity.fromCertificate(certificate).name();
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("bank identity: " + e.getMessage(), e);
    }
    this.budget = new PrivacyBudget(config.epsilonCap(), config.delta());
    this.guard = new BudgetGuard(budget);
    try {
      this.ledger = new LocalLedgerStore(config.dataDir(), bankId);
    } catch (IOException e) {
      throw new IllegalArgumentException("privacy ledger copy: " + e.getMessage(), e);
    }
    try {
      this.journal = new SpendJournal(config.dataDir());
      this.noise = new NoiseShareJournal(config.dataDir());
    } catch (IOException e) {
      throw new IllegalArgumentException("privacy spend journal: " + e.getMessage(), e);
    }
    this.bankGuard = config.bankEpsilonCap() == null ? null
        : new BudgetGuard(new PrivacyBudget(config.bankEpsilonCap(), config.delta()));
  }

  String bankId() {
    return bankId;
  }

  double cap() {
    return budget.epsilonCap();
  }

  /**
   * This bank's round plan: its sampling rate is the job's batch over its own rows, and its noise
   * multiplier is the plan's, or, when the plan gives a target epsilon instead, the smallest noise
   * that keeps the whole job within that target for this bank's rows.
   */
  LocalTrainingPlan roundPlan(JobSpec spec, long trainRows) {
    // the calibration is a bisection over the accountant: once per job, not once per round
    return roundPlans.computeIfAbsent(new PlanKey(spec, trainRows), k -> calibrate(spec, trainRows));
  }

  private record PlanKey(JobSpec spec, long trainRows) {}

  private final Map<PlanKey, LocalTrainingPlan> roundPlans = new HashMap<>();
  /**
   * The discrete Gaussian noise shares' random bits (one share per coordinate): AES-CTR keyed from the
   * JDK's DRBG, rather than NativePRNG's locked read of /dev/urandom per draw.
   */
  private final SecureRandom noiseRandom = BulkSecureRandom.create();

  private static LocalTrainingPlan calibrate(JobSpec spec, long trainRows) {
    PrivacySpec p = spec.privacy();
    // a bank with fewer rows than the batch samples every row (q = 1), as its trainer batches them all
    int batch = (int) Math.min(spec.model().batchSize(), trainRows);
    int epochs = spec.training().localEpochs();
    OptionalDouble explicit = p.record().orElseThrow().noiseMultiplier();
    if (explicit.isPresent()) {
      return new LocalTrainingPlan(trainRows, batch, epochs, explicit.getAsDouble());
    }
    return LocalTrainingPlan.calibrated(trainRows, batch, epochs, spec.training().rounds(),
        p.targetEpsilon().orElseThrow(), p.delta());
  }

  /**
   * What the rest of the job would cost this bank, on top of everything it has already sent (for a
   * job resumed after a restart, the rounds it already ran are in its history, not counted twice).
   */
  BudgetDecision preview(JobSpec spec, long trainRows) {
    settlePendingRun();
    if (spec.privacy().distributedRecordNoise().isPresent()) {
      // every round one step at the job's rate; its worst case (t survivors) carries the job's z exactly
      long remaining = Math.max(1, spec.training().rounds() - noise.recordRoundsRun(spec.id()));
      return guard.evaluate(recordHistoryRdp(), new SampledGaussianEvent(SecureRoundPlan.recordNoiseMultiplier(spec),
          spec.privacy().distributedRecordNoise().get().samplingRate(), remaining));
    }
    LocalTrainingPlan round = roundPlan(spec, trainRows);
    long remaining = Math.max(1, spec.training().rounds() - journal.roundsRun(spec.id()));
    PrivacyEvent job = new SampledGaussianEvent(round.noiseMultiplier(), round.samplingRate(),
        round.steps() * remaining);
    return guard.evaluate(recordHistoryRdp(), job);
  }

  /**
   * The composed RDP curve of everything this bank released that protects its customers by record-level
   * DP: its own DP-SGD runs and its shares of distributed DP-SGD noise (with the survivors it saw, or at
   * the worst case). Each journal keeps its own composed curve, so this costs no replay; the two are
   * added order by order (a bank that used only one of the two gets exactly that journal's curve).
   */
  private double[] recordHistoryRdp() {
    settlePendingRun();
    double[] total = journal.rdp();
    double[] shares = noise.recordRdp();
    for (int i = 0; i < total.length; i++) {
      total[i] += shares[i];
    }
    return total;
  }

  /**
   * Checks a round with distributed record-level noise against the bank's cap, at the round's worst case
   * (only the threshold survive).
   *
   * @throws PrivacyBudgetExceededException if this round could take the bank past its cap
   */
  void checkDistributedRound(SecureRoundPlan round) throws PrivacyBudgetExceededException {
    BudgetDecision d = guard.evaluate(recordHistoryRdp(), round.recordNoise().worstCaseEvent());
    if (!d.accepted()) {
      throw new PrivacyBudgetExceededException(d.reason(), d.spentEpsilon(), d.projectedEpsilon(), d.capEpsilon());
    }
  }

  /**
   * This bank's share of a federated DP-SGD step's record-level noise, in quantised units, recorded
   * durably before it is returned. Its size is the one the bank derived from its pinned plan
   * ({@link SecureRoundPlan#derive}): sigma_i = z Delta2 / sqrt(t - k).
   */
  long[] recordNoiseShare(SecureRoundPlan round) throws IOException {
    noise.recordRecordShare(round.parameters().jobId(), (int) round.jobRound(), round.recordNoise());
    long[] share = new long[round.parameters().dimension()];
    DiscreteGaussianSampler.ofSigma(round.recordNoise().perBankSigma(), noiseRandom).addNoise(share);
    return share;
  }

  /** @throws PrivacyBudgetExceededException if this round would take the bank past its cap */
  BudgetDecision checkRound(LocalTrainingPlan round) throws PrivacyBudgetExceededException {
    BudgetDecision d = guard.evaluate(recordHistoryRdp(), round.event());
    if (!d.accepted()) {
      throw new PrivacyBudgetExceededException(d.reason(), d.spentEpsilon(), d.projectedEpsilon(), d.capEpsilon());
    }
    return d;
  }

  /**
   * Checks a bank-level DP round against the bank's own bank-level cap (if it set one): everything it
   * has put noise shares into, with the survivors it saw or at the worst case, plus this round at its
   * worst case (only the threshold survive; a bank never knows the survivors in advance).
   *
   * @throws PrivacyBudgetExceededException if this round could take the bank past its bank-level cap
   */
  void checkBankRound(SecureRoundPlan round) throws PrivacyBudgetExceededException {
    if (bankGuard == null || !round.bankLevel()) {
      return;
    }
    BudgetDecision d = bankGuard.evaluate(noise.rdp(), round.bankNoiseShare().worstCaseEvent());
    if (!d.accepted()) {
      throw new PrivacyBudgetExceededException("bank level: " + d.reason(), d.spentEpsilon(), d.projectedEpsilon(),
          d.capEpsilon());
    }
  }

  /**
   * This bank's discrete Gaussian share for a round, in quantised units, recorded durably before it is
   * returned (so before the input that carries it can leave the bank). The noise level is the one the
   * bank derived itself ({@link SecureRoundPlan#derive}), never a task's.
   */
  long[] noiseShare(SecureRoundPlan round) throws IOException {
    noise.recordShare(round.parameters().jobId(), (int) round.jobRound(), round.bankNoiseShare());
    long[] share = new long[round.parameters().dimension()];
    DiscreteGaussianSampler.ofSigma(round.perBankSigma(), noiseRandom).addNoise(share);
    return share;
  }

  /** Records the survivors of a round this bank added noise to, as it revealed its shares for them. */
  void recordSurvivors(String jobId, int round, List<String> survivors) throws IOException {
    noise.recordSurvivors(jobId, round, survivors);
  }

  /** Whether this bank countersigned a ledger entry of {@code jobId} that released the model {@code sha256}. */
  boolean countersignedModel(String jobId, String sha256) throws IOException {
    settlePendingCopy(); // the copy only: a training task's evaluation must not wait for its own spend's write
    return ledger.holdsModel(jobId, sha256);
  }

  /** Records a run durably; call before its output leaves the bank. */
  void recordRun(String jobId, int round, DpReport report) throws IOException {
    recordRunAhead(jobId, round, report).await(); // the path a training task takes, waited for at once
  }

  /**
   * A spend-journal entry on its way to disk: {@link #await} returns once it is forced there, and must return
   * before anything the run computed leaves the bank.
   */
  interface DurableRecord {
    /** @throws IOException if the entry could not be written: nothing the run computed may then leave */
    void await() throws IOException;
  }

  /**
   * Records a DP-SGD run as {@link #recordRun} does, but forces the entry to disk on the bank's journal thread,
   * so the write overlaps the training and masking that follow on the caller's thread: computation, not a
   * release. The caller awaits the returned record before its answer leaves the bank, on every path, also when
   * the computation fails (an entry of a run whose output never left counts against the budget, as a crash
   * after the write always did: the journal may overstate the spend, never understate it). Until the entry
   * settles, every read of the journal (budget checks, countersignatures) waits for it.
   */
  DurableRecord recordRunAhead(String jobId, int round, DpReport report) {
    settlePendingRun();
    java.util.concurrent.CompletableFuture<Void> write = writeAhead(() -> journal.record(jobId, round, report));
    pendingRun = write;
    return () -> awaitWrite("the spend journal entry", write);
  }

  /** Package-private for tests: where forced writes run from now on (a test holds them back). */
  void journalThread(java.util.concurrent.Executor executor) {
    journalWriter = executor;
  }

  private interface DiskWrite {
    void run() throws IOException;
  }

  /** Starts {@code write} on the journal thread (one write after another). */
  private java.util.concurrent.CompletableFuture<Void> writeAhead(DiskWrite write) {
    if (journalWriter == null) {
      journalWriter = BankThreads.single("consort-bank-journal-" + bankId);
    }
    return java.util.concurrent.CompletableFuture.runAsync(() -> {
      try {
        write.run();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, journalWriter);
  }

  /** Waits for the journal entry in flight, if any; its failure is the awaiting task's to report, not this one's. */
  private void settlePendingRun() {
    settle(pendingRun);
    pendingRun = null;
  }

  /** Waits for the ledger-copy append in flight, if any; its failure is the awaiting task's to report. */
  private void settlePendingCopy() {
    settle(pendingCopy);
    pendingCopy = null;
  }

  private static void settle(java.util.concurrent.CompletableFuture<Void> pending) {
    if (pending != null) {
      pending.exceptionally(e -> null).join();
    }
  }

  private static void awaitWrite(String what, java.util.concurrent.CompletableFuture<Void> write) throws IOException {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          write.get();
          return;
        } catch (InterruptedException e) {
          interrupted = true; // the entry's fate must be known before the caller goes on: keep waiting
        } catch (java.util.concurrent.ExecutionException e) {
          Throwable cause = e.getCause() instanceof java.io.UncheckedIOException u ? u.getCause() : e.getCause();
          if (cause instanceof IOException io) {
            throw new IOException(what + " was not written: " + io.getMessage(), io);
          }
          throw new IllegalStateException(what + " was not written: " + cause, cause);
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * The entry's bank-level noise must be exactly what this bank knows of the round: the share it added
   * (sigma, clip, sensitivity and dimension it derived itself) and the survivor set it revealed its
   * shares for (with the consistency check, the set it signed). An entry that understates the noise,
   * overstates the survivors or the noise they carried, states another sensitivity, or leaves out the
   * bank-level noise this bank added is refused.
   */
  private void checkBankLevel(LedgerEntry entry) {
    List<MechanismRecord> bankLevel = entry.mechanisms().stream().filter(m -> m.unit() == PrivacyUnit.BANK).toList();
    BankNoiseShare share = noise.share(entry.jobId(), (int) entry.round());
    String where = "ledger entry " + entry.sequence() + " (job '" + entry.jobId() + "' round " + entry.round() + ")";
    if (share == null) {
      if (!bankLevel.isEmpty()) {
        throw new ProtocolViolationException(where + " records bank-level noise but bank '" + bankId
            + "' added no noise share in that round");
      }
      return;
    }
    List<String> survivors = survivorsOf(entry, where);
    MechanismRecord expected = share.mechanism(survivors.size());
    if (bankLevel.size() != 1 || !bankLevel.get(0).equals(expected)) {
      throw new ProtocolViolationException(where + " records bank-level noise " + bankLevel + " but bank '" + bankId
          + "' computes " + expected + " (sigma " + share.perBankSigma() + " per bank, " + survivors.size()
          + " survivors, L2 sensitivity " + share.l2Sensitivity() + ")");
    }
  }

  /**
   * The entry's record-level mechanism for this bank must be exactly the step it added a share to, with
   * the survivor set it revealed its shares for and the colluders its pinned plan allows for: an entry that
   * overstates the survivors, understates the sensitivity or counts more shares is refused.
   */
  private void checkDistributedRecordLevel(LedgerEntry entry, List<MechanismRecord> mine, RecordNoiseShare share) {
    String where = "ledger entry " + entry.sequence() + " (job '" + entry.jobId() + "' round " + entry.round() + ")";
    List<String> survivors = survivorsOf(entry, where);
    MechanismRecord expected = share.mechanism(bankId, survivors.size());
    if (mine.size() != 1 || !mine.get(0).equals(expected)) {
      throw new ProtocolViolationException(where + " records record-level mechanisms " + mine + " for bank '" + bankId
          + "' but it computes " + expected + " (sigma " + share.perBankSigma() + " per bank, " + survivors.size()
          + " survivors, " + share.colluders() + " colluding banks, L2 sensitivity " + share.l2Sensitivity() + ")");
    }
  }

  /**
   * The survivors this bank revealed its shares for in the entry's round, which must be exactly the
   * entry's banks.
   */
  private List<String> survivorsOf(LedgerEntry entry, String where) {
    List<String> survivors = noise.survivors(entry.jobId(), (int) entry.round());
    if (survivors == null) {
      throw new ProtocolViolationException(where + ": bank '" + bankId + "' added a noise share but never saw the "
          + "round unmasked, so it cannot check the survivors the entry accounts");
    }
    if (!entry.participatingBanks().equals(survivors)) {
      throw new ProtocolViolationException(where + " lists banks " + entry.participatingBanks() + " but bank '"
          + bankId + "' revealed its shares for the survivors " + survivors);
    }
    return survivors;
  }

  private static boolean understates(Double recorded, Double local) {
    return local != null && (recorded == null || recorded < local - 1e-9);
  }

  /**
   * Countersigns an entry after checking it against this bank's own records: it must include this
   * bank, describe exactly the DP-SGD this bank ran in that round, and record the spend this bank's
   * own ledger copy gives. The entry is then appended to the local copy.
   */
  Countersignature countersign(String jobId, CountersignRequest request) throws IOException, GeneralSecurityException {
    Countersigned countersigned = countersignAhead(jobId, request);
    countersigned.copy().await();
    return countersigned.countersignature();
  }

  /**
   * A countersignature, and the append of its entry to the bank's ledger copy, forced to disk on the journal
   * thread: the countersignature may leave the bank only once {@code copy} is awaited; {@code modelChecksum} is the
   * SHA-256 (hex) of the model the entry released.
   */
  record Countersigned(Countersignature countersignature, DurableRecord copy, String modelChecksum) {}

  /**
   * {@link #countersign}, with the append to the ledger copy forced to disk on the journal thread while the
   * caller goes on (pipelined rounds: computing the next round's shares); the caller awaits {@link
   * Countersigned#copy} before the countersignature leaves, on every path. Every later read of the copy waits
   * for the append.
   */
  Countersigned countersignAhead(String jobId, CountersignRequest request) throws IOException,
      GeneralSecurityException {
    SignedLedgerEntry signed;
    try {
      signed = SignedEntryJson.fromJson(request.getEntryJson(), "ledger entry from the coordinator");
    } catch (LedgerFormatException e) {
      throw new ProtocolViolationException(e.getMessage(), e);
    }
    LedgerEntry entry = signed.entry();
    if (!entry.jobId().equals(jobId)) {
      throw new ProtocolViolationException("a countersign request for job '" + jobId + "' carries an entry of job '"
          + entry.jobId() + "'");
    }
    if (!entry.hash().equals(signed.entryHash()) || !signed.entryHash().equals(request.getEntryHash())) {
      throw new ProtocolViolationException("ledger entry " + entry.sequence() + ": hash does not match its content");
    }
    if (!entry.participatingBanks().contains(bankId)) {
      throw new ProtocolViolationException("ledger entry " + entry.sequence() + " does not list bank '" + bankId + "'");
    }
    List<MechanismRecord> mine = new ArrayList<>();
    for (MechanismRecord m : entry.mechanismsFor(bankId)) {
      if (m.unit() == PrivacyUnit.RECORD) {
        mine.add(m);
      }
    }
    settlePendingRun();
    settlePendingCopy();
    DpReport report = journal.run(entry.jobId(), (int) entry.round());
    RecordNoiseShare recordShare = noise.recordShare(entry.jobId(), (int) entry.round());
    if (recordShare != null) {
      checkDistributedRecordLevel(entry, mine, recordShare);
    } else if (report != null) {
      boolean matches = mine.size() == 1 && mine.get(0).noiseMultiplier() == report.getNoiseMultiplier()
          && mine.get(0).samplingRate() == report.getSamplingRate() && mine.get(0).steps() == report.getSteps()
          && mine.get(0).clipNorm() == report.getClipNorm();
      if (!matches) {
        throw new ProtocolViolationException("ledger entry " + entry.sequence() + " records record-level mechanisms "
            + mine + " for bank '" + bankId + "' but it ran " + report.toString().replace('\n', ' '));
      }
    } else if (!mine.isEmpty()) {
      throw new ProtocolViolationException("ledger entry " + entry.sequence() + " records DP-SGD for bank '" + bankId
          + "' in job '" + entry.jobId() + "' round " + entry.round() + " but this bank has no record of running it");
    }
    checkBankLevel(entry);
    if (!SpendCalculator.ACCOUNTING.equals(entry.accounting())) {
      throw new ProtocolViolationException("ledger entry " + entry.sequence() + " is accounted as \""
          + entry.accounting() + "\"; bank '" + bankId + "' countersigns only " + SpendCalculator.ACCOUNTING);
    }
    // this release alone must cost what the bank computes; the running total may include entries
    // this bank never received (a countersign request lost in a restart), but can never be less
    // than the total of the entries it holds
    BankSpend alone = SpendCalculator.replay(List.of()).preview(List.of(bankId), entry.mechanisms(), entry.delta()).get(bankId);
    BankSpend local = ledger.previewSpend(entry.mechanisms(), entry.delta());
    BankSpend recorded = entry.spends().get(bankId);
    if (!java.util.Objects.equals(alone.recordEpsilonRound(), recorded.recordEpsilonRound())
        || !java.util.Objects.equals(alone.bankEpsilonRound(), recorded.bankEpsilonRound())
        || understates(recorded.recordEpsilonTotal(), local.recordEpsilonTotal())
        || understates(recorded.bankEpsilonTotal(), local.bankEpsilonTotal())) {
      throw new ProtocolViolationException("ledger entry " + entry.sequence() + " records spend " + recorded
          + " for bank '" + bankId + "' but its own accounting gives " + alone + " for the round and at least "
          + local + " in total");
    }
    LedgerSignature sig = LedgerSigning.countersign(entry, key, certificate);
    java.util.concurrent.CompletableFuture<Void> append = writeAhead(() -> {
      ledger.append(signed.withCountersignature(sig));
      log.info("countersigned ledger entry {} (job '{}' round {}): record-level epsilon this round {}, total {}",
          entry.sequence(), entry.jobId(), entry.round(), recorded.recordEpsilonRound(), recorded.recordEpsilonTotal());
    });
    pendingCopy = append;
    DurableRecord copy = () -> awaitWrite("the ledger copy's entry " + entry.sequence(), append);
    return new Countersigned(Countersignature.newBuilder().setEntryHash(signed.entryHash())
        .setSignerId(sig.signerId()).setAlgorithm(sig.algorithm())
        .setCertificateFingerprint(sig.certificateFingerprint()).setSignature(ByteString.copyFrom(sig.signature()))
        .build(), copy, entry.modelChecksum());
  }
}
