package io.consort.scoring;

import io.consort.model.eval.ScoreHistogram;
import io.consort.protocol.v1.ModelParameters;
import io.consort.scoring.calibration.Calibration;
import io.consort.scoring.calibration.HistogramEvaluation;
import io.consort.scoring.calibration.PlattScaling;
import io.consort.scoring.v1.DecisionRule;
import io.consort.scoring.v1.EncodingScheme;
import io.consort.scoring.v1.Preprocessing;
import io.consort.scoring.v1.Provenance;
import io.consort.scoring.v1.PublishedModelBody;
import io.consort.scoring.v1.ReferenceApplicant;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import java.util.Objects;
import java.util.Optional;

/**
 * Turns a finished job's final model into its published model: the job's plan, the model, the
 * preprocessing, Platt scaling fitted on the merged evaluation histogram of the final model, the
 * decision rule of the job's cost matrix, the evaluation's calibration and cost figures, and the
 * provenance the coordinator recorded. The calibration and every figure are functions of the merged
 * histogram the banks already released for that model, so publishing them releases nothing new
 * about any bank's rows. Pure: the coordinator calls it and writes the result.
 */
public final class ModelPublication {
  private ModelPublication() {}

  /**
   * The federated evaluation of the final model: the merged histogram of the banks that evaluated
   * it, and the metrics the coordinator computed from it.
   *
   * @param round the round whose evaluation it is (that round released the final model)
   * @param logLoss the exact log-loss, from the banks' summed log-loss
   */
  /**
   * @param importance per original column, the mean log-loss increase per held-out row when it is
   *     shuffled (federated permutation importance); empty when not measured
   */
  public record FinalEvaluation(int round, ScoreHistogram merged, double auc, double accuracy, double logLoss,
                                java.util.Map<String, Double> importance) {
    public FinalEvaluation {
      Objects.requireNonNull(merged, "merged");
      importance = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(importance));
      if (merged.count() == 0) {
        throw new IllegalArgumentException("the final evaluation holds no rows");
      }
    }

    /** Without permutation importance. */
    public FinalEvaluation(int round, ScoreHistogram merged, double auc, double accuracy, double logLoss) {
      this(round, merged, auc, accuracy, logLoss, java.util.Map.of());
    }
  }

  /**
   * A regression model's federated evaluation: the pooled error sums of the banks that evaluated it.
   *
   * @param round the round whose evaluation it is (that round released the final model)
   */
  public record RegressionEvaluation(int round, io.consort.model.eval.RegressionTotals totals) {
    public RegressionEvaluation {
      Objects.requireNonNull(totals, "totals");
      if (totals.rows() == 0) {
        throw new IllegalArgumentException("the final evaluation holds no rows");
      }
    }
  }

  /**
   * The published model of a regression job's {@code finalModel}: no calibration (it predicts a value,
   * not a probability), no decision rule, and the evaluation's RMSE, MAE and R^2.
   *
   * @throws IllegalArgumentException when the job is not a regression job or the parts do not fit
   */
  public static PublishedModel publishRegression(JobSpec spec, ModelParameters finalModel,
                                                 Optional<RegressionEvaluation> evaluation, Provenance provenance) {
    if (spec.model().objective() != io.consort.model.train.Objective.REGRESSION) {
      throw new IllegalArgumentException("job '" + spec.id() + "' is " + spec.model().objective().wireName()
          + ", not regression");
    }
    PublishedModelBody.Builder body = PublishedModelBody.newBuilder().setPlan(JobSpecWire.toProto(spec))
        .setModel(finalModel)
        .setPreprocessing(Preprocessing.newBuilder().setEncoding(EncodingScheme.STANDARDISE_AND_ONE_HOT_V1)
            .setReference(ReferenceApplicant.MEANS_AND_UNIFORM_LEVELS))
        .setCalibration(Calibration.identity(REGRESSION_CALIBRATION_NOTE).toProto()).setProvenance(provenance);
    evaluation.ifPresent(e -> {
      var t = e.totals();
      var m = io.consort.scoring.v1.RegressionMetrics.newBuilder().setLabelBound(t.bound()).setRmse(t.rmse())
          .setMae(t.mae()).setZeroPredictionRmse(t.zeroPredictionRmse());
      if (Double.isFinite(t.rSquared())) {
        m.setRSquared(t.rSquared());
      }
      body.setEvaluation(io.consort.scoring.v1.Evaluation.newBuilder().setRound(e.round()).setExamples(t.rows())
          .setRegression(m));
    });
    return PublishedModel.of(body.build());
  }

  /** Why a regression model carries the identity calibration. */
  public static final String REGRESSION_CALIBRATION_NOTE = "not applicable: a regression model predicts a value, "
      + "not a probability";

  /**
   * The published model of {@code finalModel}.
   *
   * @param evaluation the final model's federated evaluation; without one the model is published
   *     uncalibrated, with no evaluation block
   * @param provenance the coordinator's record (job, rounds, banks and their privacy, ledger entry,
   *     code version, time)
   * @throws IllegalArgumentException when the parts do not make one consistent model
   */
  public static PublishedModel publish(JobSpec spec, ModelParameters finalModel, Optional<FinalEvaluation> evaluation,
                                       Provenance provenance) {
    Calibration calibration = evaluation.map(e -> PlattScaling.fit(e.merged()))
        .orElseGet(() -> Calibration.identity("not fitted: no bank evaluated the final model"));
    DecisionRule decision = PublishedModel.decisionRule(spec);
    PublishedModelBody.Builder body = PublishedModelBody.newBuilder().setPlan(JobSpecWire.toProto(spec))
        .setModel(finalModel)
        .setPreprocessing(Preprocessing.newBuilder().setEncoding(EncodingScheme.STANDARDISE_AND_ONE_HOT_V1)
            .setReference(ReferenceApplicant.MEANS_AND_UNIFORM_LEVELS))
        .setCalibration(calibration.toProto()).setDecision(decision).setProvenance(provenance);
    evaluation.ifPresent(e -> {
      var evaluated = HistogramEvaluation.evaluate(e.round(), e.merged(), e.auc(), e.accuracy(), e.logLoss(),
          calibration, spec.evaluation().costMatrix(), decision.getThreshold()).toBuilder();
      e.importance().entrySet().stream()
          .sorted(java.util.Map.Entry.<String, Double>comparingByValue().reversed())
          .forEach(i -> evaluated.addImportance(io.consort.scoring.v1.FeatureImportance.newBuilder()
              .setColumn(i.getKey()).setLogLossIncrease(i.getValue())));
      body.setEvaluation(evaluated);
    });
    return PublishedModel.of(body.build());
  }

  /** How each bank's privacy is guaranteed under {@code spec}, in words for the provenance and the card. */
  public static String mechanism(JobSpec spec) {
    String record = spec.privacy().record().map(r -> "record level: DP-SGD in the bank (per-example clipping to "
        + r.clipNorm() + ", Gaussian noise, Poisson sampling), RDP accountant").orElse(null);
    String bank = spec.privacy().bank().isPresent() ? "bank level: distributed discrete Gaussian noise shares under "
        + "secure aggregation (Kairouz, Liu, Steinke 2021)" : null;
    if (record == null && bank == null) {
      return "none: the job ran without differential privacy";
    }
    return record == null ? bank : bank == null ? record : record + "; " + bank;
  }
}
