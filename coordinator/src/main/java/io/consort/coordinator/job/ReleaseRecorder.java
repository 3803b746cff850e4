package io.consort.coordinator.job;

import io.consort.privacy.accounting.DistributedDiscreteGaussian;
import io.consort.privacy.ledger.LedgerSignature;
import io.consort.privacy.ledger.LedgerSigning;
import io.consort.privacy.ledger.MechanismKind;
import io.consort.privacy.ledger.MechanismRecord;
import io.consort.privacy.ledger.PrivacyUnit;
import io.consort.privacy.ledger.RecordNoiseShare;
import io.consort.privacy.ledger.SignedEntryJson;
import io.consort.privacy.ledger.SignedLedgerEntry;
import io.consort.protocol.v1.Countersignature;
import io.consort.protocol.v1.CountersignRequest;
import io.consort.protocol.v1.DpReport;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import io.vertx.core.Future;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enters each released model in the privacy ledger before anyone sees it: the mechanisms each bank
 * reported running (record-level DP-SGD with its own noise, sampling rate and steps) and the
 * bank-level noise actually in the sum, signed by the coordinator and countersigned by each
 * participating bank for its own spend. A countersignature that is late, for another entry, by
 * another certificate or that does not verify is left out, which an audit reports.
 */
public final class ReleaseRecorder {
  private static final Logger log = LoggerFactory.getLogger(ReleaseRecorder.class);

  private final JobContext job;
  private final LedgerKeeper ledger;
  private final Optional<PipelinedRounds> pipeline;

  public ReleaseRecorder(JobContext job, LedgerKeeper ledger) {
    this(job, ledger, Optional.empty());
  }

  /**
   * @param pipeline pipelined rounds: the next round's key roster goes out with the ledger task and the
   *     banks' shares come back with their countersignatures
   */
  ReleaseRecorder(JobContext job, LedgerKeeper ledger, Optional<PipelinedRounds> pipeline) {
    this.job = job;
    this.ledger = ledger;
    this.pipeline = pipeline;
  }

  /** Records the release of {@code released}, produced in {@code round} from {@code outcome}'s aggregate. */
  public Future<Release> record(int round, RoundOutcome outcome, ModelParameters released) {
    List<String> participants = outcome.participants();
    List<MechanismRecord> mechanisms = outcome.recordNoise().isPresent()
        ? distributedRecordMechanisms(participants, outcome.recordNoise().get())
        : mechanisms(participants, outcome.dpReports(), outcome.bankNoise());
    Map<String, X509Certificate> certificates = new LinkedHashMap<>();
    for (String bank : participants) {
      job.members().certificate(bank).ifPresent(c -> certificates.put(bank, c));
    }
    double delta = job.spec().privacy().delta();
    // the entry and its JSON once per round, off the event loop: each bank's task only adds its next-round roster
    return job.workers().run(() -> {
          SignedLedgerEntry signed = ledger.prepare(job.spec().id(), round, participants, delta, mechanisms,
              released.getSha256());
          return new Prepared(signed, CountersignRequest.newBuilder().setEntryJson(SignedEntryJson.toJson(signed))
              .setEntryHash(signed.entryHash()).build());
        })
        .compose(prepared -> job.stages().collect(round, Stage.LEDGER_COUNTERSIGN, participants,
                m -> Task.newBuilder().setCountersign(pipeline.flatMap(p -> p.rosterFor(round, m))
                    .map(next -> prepared.request().toBuilder().setNextRound(next.roster())
                        .setNextRoundRowTotal(next.rowTotal()).build())
                    .orElse(prepared.request())))
            .compose(answers -> {
              // pipelined rounds: the next round's shares go to its sum in the commit's worker job, after it
              Optional<PipelinedRounds.SharesStep> shares = pipeline.flatMap(p -> p.sharesStep(round,
                  nextRoundShares(answers)));
              return job.workers().run(() -> {
                    SignedLedgerEntry full = ledger.commit(prepared.signed(),
                        verifiedCountersignatures(round, prepared.signed(), answers, certificates),
                        List.copyOf(certificates.values()));
                    shares.ifPresent(step -> WorkerPurpose.SECURE_AGGREGATION.run(step::run));
                    return full;
                  })
                  .map(full -> {
                    shares.ifPresent(PipelinedRounds.SharesStep::done);
                    return full;
                  });
            }))
        .map(ReleaseRecorder::release);
  }

  /** A round's entry, signed by the coordinator, and the countersigning request that carries it. */
  private record Prepared(SignedLedgerEntry signed, CountersignRequest request) {}

  /** Pipelined rounds: the shares for the next round that came with the countersignatures. */
  private static Map<String, io.consort.protocol.v1.SecAggStep> nextRoundShares(StageAnswers answers) {
    Map<String, io.consort.protocol.v1.SecAggStep> shares = new LinkedHashMap<>();
    for (String bank : answers.asked()) {
      answers.answer(bank).filter(r -> r.hasCountersignature() && r.getCountersignature().hasNextRound())
          .ifPresent(r -> shares.put(bank, r.getCountersignature().getNextRound()));
    }
    return shares;
  }

  static List<MechanismRecord> mechanisms(List<String> participants, Map<String, DpReport> dpReports,
                                          Optional<BankNoise> bankNoise) {
    List<MechanismRecord> mechanisms = new ArrayList<>();
    for (String bank : participants) {
      DpReport d = dpReports.get(bank);
      if (d != null) {
        mechanisms.add(new MechanismRecord(PrivacyUnit.RECORD, bank, MechanismKind.SAMPLED_GAUSSIAN,
            d.getNoiseMultiplier(), d.getSamplingRate(), d.getSteps(), d.getClipNorm(),
            d.getNoiseMultiplier() * d.getClipNorm(), 0, 0, 0, 0, 0));
      }
    }
    bankNoise.ifPresent(n -> mechanisms.add(MechanismRecord.distributedDiscreteGaussian(n.clipNorm(),
        n.perBankSigma(), n.survivors(), n.l2Sensitivity(),
        DistributedDiscreteGaussian.l1Bound(n.l2Sensitivity(), n.dimension()), n.dimension())));
    return mechanisms;
  }

  /**
   * A federated DP-SGD step with distributed noise: for each survivor, the step on its own customers,
   * accounted with the shares of the survivors minus the job's colluding banks (the noise that reached
   * the sum; dropped banks added none).
   */
  static List<MechanismRecord> distributedRecordMechanisms(List<String> participants, RecordNoiseShare share) {
    List<MechanismRecord> mechanisms = new ArrayList<>();
    for (String bank : participants) {
      mechanisms.add(share.mechanism(bank, participants.size()));
    }
    return mechanisms;
  }

  private static List<LedgerSignature> verifiedCountersignatures(int round, SignedLedgerEntry signed,
                                                                 StageAnswers answers,
                                                                 Map<String, X509Certificate> certificates) {
    List<LedgerSignature> signatures = new ArrayList<>();
    for (String bank : answers.asked()) {
      TaskResult r = answers.answer(bank).orElse(null);
      X509Certificate cert = certificates.get(bank);
      String problem = r == null || !r.hasCountersignature() ? answers.problemOf(bank)
          : problem(r.getCountersignature(), bank, signed.entryHash(), cert);
      LedgerSignature signature = null;
      if (problem == null) {
        Countersignature c = r.getCountersignature();
        signature = new LedgerSignature(c.getSignerId(), c.getAlgorithm(), c.getCertificateFingerprint(),
            c.getSignature().toByteArray());
        try {
          if (!LedgerSigning.verifyCountersignature(signed.entry(), signature, cert)) {
            problem = "the countersignature does not verify";
          }
        } catch (GeneralSecurityException e) {
          problem = "the countersignature does not verify: " + e.getMessage();
        }
      }
      if (problem != null) {
        log.warn("round {}: ledger entry {} lacks the countersignature of bank '{}': {}", round,
            signed.entry().sequence(), bank, problem);
      } else {
        signatures.add(signature);
      }
    }
    return signatures;
  }

  private static String problem(Countersignature c, String bank, String entryHash, X509Certificate cert) {
    if (!c.getEntryHash().equals(entryHash)) {
      return "countersignature is for entry hash " + c.getEntryHash() + ", not " + entryHash;
    }
    if (!c.getSignerId().equals(bank)) {
      return "countersignature names signer '" + c.getSignerId() + "'";
    }
    if (cert == null) {
      return "no certificate on record for the bank";
    }
    if (!LedgerSigning.fingerprint(cert).equals(c.getCertificateFingerprint())) {
      return "countersignature was made with another certificate than the one the bank connected with";
    }
    return null;
  }

  private static Release release(SignedLedgerEntry full) {
    Map<String, Double> epsilon = new LinkedHashMap<>();
    Map<String, Double> epsilonRound = new LinkedHashMap<>();
    Map<String, Double> bankEpsilon = new LinkedHashMap<>();
    full.entry().spends().forEach((bank, spend) -> {
      if (spend.recordEpsilonTotal() != null) {
        epsilon.put(bank, spend.recordEpsilonTotal());
        epsilonRound.put(bank, spend.recordEpsilonRound());
      }
      if (spend.bankEpsilonTotal() != null) {
        bankEpsilon.put(bank, spend.bankEpsilonTotal());
      }
    });
    return new Release(full.entry().sequence(), epsilon, epsilonRound, bankEpsilon,
        full.countersignatures().stream().map(LedgerSignature::signerId).toList());
  }
}
