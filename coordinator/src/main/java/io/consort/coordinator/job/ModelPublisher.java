package io.consort.coordinator.job;

import io.consort.privacy.ledger.SignedLedgerEntry;
import io.consort.protocol.v1.ModelParameters;
import io.consort.scoring.ConsortVersion;
import io.consort.scoring.ModelPublication;
import io.consort.scoring.PublishedModel;
import io.consort.scoring.PublishedModelFile;
import io.consort.scoring.card.ModelCard;
import io.consort.scoring.v1.BankGuarantee;
import io.consort.scoring.v1.Provenance;
import io.consort.spec.JobSpec;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Publishes a finished job's final model: the published model file ({@code <job>-model.consort}),
 * calibrated on the merged evaluation histogram of the round that released the model (a regression
 * model: uncalibrated, without a decision rule, with its RMSE, MAE and R^2), with the
 * provenance the coordinator holds (rounds, banks and their privacy in the ledger, the ledger entry
 * that released the model, code version), and its model card ({@code <job>-model-card.md} and
 * {@code .json}). Everything in it is a function of what the job already released; the banks receive
 * the same file with the job-finished notice. Blocking: run on a worker.
 */
final class ModelPublisher {
  private final Path directory;

  ModelPublisher(Path directory) {
    this.directory = directory;
  }

  static String modelFileName(String jobId) {
    return jobId + "-model" + PublishedModelFile.EXTENSION;
  }

  /**
   * The published model of {@code finalModel}: its evaluation is the latest round record of that
   * very model (by SHA-256) that carries a merged histogram; its ledger entry the latest of the job
   * that released it.
   */
  static PublishedModel publish(JobSpec spec, ModelParameters finalModel, List<RoundRecord> rounds,
                                Collection<BankRecord> banks, List<String> participants, PrivacyTotals privacy,
                                List<SignedLedgerEntry> ledger, Instant now) {
    Optional<ModelPublication.FinalEvaluation> evaluation = Optional.empty();
    Optional<ModelPublication.RegressionEvaluation> regression = Optional.empty();
    for (RoundRecord r : rounds) {
      if (r.modelSha256().equals(finalModel.getSha256())
          && r.metrics().flatMap(ModelOps.Metrics::regression).filter(t -> t.rows() > 0).isPresent()) {
        regression = Optional.of(new ModelPublication.RegressionEvaluation(r.round(),
            r.metrics().orElseThrow().regression().orElseThrow()));
      }
      if (r.modelSha256().equals(finalModel.getSha256()) && r.metrics().flatMap(ModelOps.Metrics::merged).isPresent()) {
        ModelOps.Metrics m = r.metrics().orElseThrow();
        evaluation = Optional.of(new ModelPublication.FinalEvaluation(r.round(), m.merged().orElseThrow(), m.auc(),
            m.accuracy(), m.logLoss(), m.importance()));
      }
    }
    Optional<SignedLedgerEntry> release = Optional.empty();
    for (SignedLedgerEntry e : ledger) {
      if (e.entry().jobId().equals(spec.id()) && e.entry().modelChecksum().equals(finalModel.getSha256())) {
        release = Optional.of(e);
      }
    }
    Map<String, BankRecord> byId = banks.stream().collect(Collectors.toMap(BankRecord::id, Function.identity()));
    String mechanism = ModelPublication.mechanism(spec);
    Provenance.Builder p = Provenance.newBuilder().setJobId(spec.id()).setRoundsPlanned(spec.training().rounds())
        .setRoundsCompleted((int) rounds.stream().filter(RoundRecord::completed).count())
        .setRoundsAborted((int) rounds.stream().filter(r -> !r.completed()).count())
        .setModelRound(release.map(e -> (int) e.entry().round()).orElse(0)).setStrategy(spec.training().strategy().description())
        .setCodeVersion(ConsortVersion.current()).setCreatedAt(now.truncatedTo(ChronoUnit.SECONDS).toString());
    release.ifPresent(e -> p.setLedgerEntry(e.entry().sequence()).setLedgerEntryHash(e.entryHash()));
    for (String bank : participants) {
      BankRecord record = byId.get(bank);
      p.setTrainingRows(p.getTrainingRows() + record.trainRows().orElse(0))
          .setHeldOutRows(p.getHeldOutRows() + record.testRows().orElse(0));
      BankGuarantee.Builder g = BankGuarantee.newBuilder().setBank(bank).setDelta(spec.privacy().delta())
          .setMechanism(mechanism).addAllDeclinedRounds(privacy.declinedRounds(bank));
      privacy.recordEpsilon(bank).ifPresent(g::setRecordEpsilon);
      privacy.bankEpsilon(bank).ifPresent(g::setBankEpsilon);
      record.epsilonCap().ifPresent(g::setEpsilonCap);
      p.addBanks(g);
    }
    return spec.model().objective() == io.consort.model.train.Objective.REGRESSION
        ? ModelPublication.publishRegression(spec, finalModel, regression, p.build())
        : ModelPublication.publish(spec, finalModel, evaluation, p.build());
  }

  /** Writes the model file and its card; the block the job's result gets about them. */
  JsonObject write(PublishedModel model) throws IOException {
    String jobId = model.spec().id();
    String sha = PublishedModelFile.write(directory.resolve(modelFileName(jobId)), model);
    Path card = ModelCard.write(directory, jobId + "-model-card", model);
    JsonObject cardJson = new JsonObject(ModelCard.json(model));
    return new JsonObject().put("file", modelFileName(jobId)).put("sha256", sha)
        .put("model_card", card.getFileName().toString()).put("objective", model.spec().model().objective().wireName())
        .put("calibration", cardJson.getJsonObject("calibration")).put("decision", cardJson.getJsonObject("decision"));
  }
}
