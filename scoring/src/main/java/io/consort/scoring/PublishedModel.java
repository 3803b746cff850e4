package io.consort.scoring;

import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import com.google.protobuf.ProtocolMessageEnum;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.ModelChecksum;
import io.consort.protocol.v1.ModelParameters;
import io.consort.scoring.calibration.Calibration;
import io.consort.scoring.v1.DecisionRule;
import io.consort.scoring.v1.EncodingScheme;
import io.consort.scoring.v1.Evaluation;
import io.consort.scoring.v1.Provenance;
import io.consort.scoring.v1.PublishedModelBody;
import io.consort.scoring.v1.ReferenceApplicant;
import io.consort.scoring.v1.ThresholdRule;
import io.consort.spec.CostMatrix;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A published model, checked to be one consistent model: the job's specification as every bank
 * accepted it, the feature encoding for its schema, parameters that fit the network and match their
 * SHA-256, a known preprocessing and reference applicant, a valid calibration and a decision rule
 * that follows from the job's cost matrix. Immutable.
 */
public final class PublishedModel {
  private final PublishedModelBody body;
  private final String fileSha256;
  private final JobSpec spec;
  private final FeatureEncoding encoding;
  private final float[] parameters;
  private final Calibration calibration;

  private PublishedModel(PublishedModelBody body, String fileSha256) {
    this.body = body;
    this.fileSha256 = fileSha256;
    refuseUnknown("model", body);
    require(body.hasPlan(), "it has no job plan");
    require(body.hasModel(), "it has no model parameters");
    require(body.hasPreprocessing(), "it has no preprocessing");
    require(body.hasCalibration(), "it has no calibration");
    require(body.hasProvenance(), "it has no provenance");
    this.spec = JobSpecWire.fromProto(body.getPlan());
    if (regression()) {
      require(!body.hasDecision(), "it is a regression model (it predicts a value) but carries a decision rule");
      require(!body.hasEvaluation() || (body.getEvaluation().hasRegression() && body.getEvaluation().getPositives() == 0
          && body.getEvaluation().getHistogramBins() == 0), "it is a regression model but its evaluation is not a "
          + "regression evaluation");
    } else {
      require(body.hasDecision(), "it has no decision rule");
      require(!body.hasEvaluation() || !body.getEvaluation().hasRegression(), "it is a binary model but its "
          + "evaluation is a regression evaluation");
    }
    require(body.getPreprocessing().getEncoding() == EncodingScheme.STANDARDISE_AND_ONE_HOT_V1,
        "its preprocessing " + body.getPreprocessing().getEncoding() + " is not one this version knows");
    require(body.getPreprocessing().getReference() == ReferenceApplicant.MEANS_AND_UNIFORM_LEVELS,
        "its reference applicant " + body.getPreprocessing().getReference() + " is not one this version knows");
    ModelParameters model = body.getModel();
    this.encoding = ModelWire.encoding(spec.schema(), model.getEncoding());
    require(model.getEncoding().getLabelColumn().equals(spec.schema().labelColumn())
        && model.getEncoding().getPositiveClass().equals(spec.schema().positiveClass()),
        "its feature encoding's label column or positive class differs from the schema's");
    io.consort.protocol.v1.ModelSpec expected = JobSpecWire.model(spec).toBuilder()
        .setInputFeatures(encoding.featureCount()).build();
    require(model.getSpec().equals(expected), "its network specification differs from the job plan's at "
        + encoding.featureCount() + " encoded features");
    this.parameters = ModelWire.values(model);
    // throws IllegalArgumentException, like require, when a sequence model's window does not fit the encoding
    int count = io.consort.model.train.ModelFactory.parameterCount(spec.model(), encoding.featureCount());
    require(parameters.length == count, "it has " + parameters.length + " parameters but its network has " + count);
    for (float p : parameters) {
      require(Float.isFinite(p), "a parameter is not finite");
    }
    require(ModelChecksum.sha256Hex(parameters).equals(model.getSha256()),
        "its parameters do not match their SHA-256 " + model.getSha256());
    this.calibration = Calibration.fromProto(body.getCalibration());
    if (regression()) {
      require(calibration.method() == Calibration.Method.IDENTITY, "it is a regression model but carries a "
          + calibration.method() + " calibration");
    } else {
      checkDecision(body.getDecision(), spec.evaluation().costMatrix());
    }
    require(body.getProvenance().getJobId().equals(spec.id()), "its provenance names job '"
        + body.getProvenance().getJobId() + "' but its plan job '" + spec.id() + "'");
  }

  /** The model {@code body} describes, with the SHA-256 of its file encoding. */
  public static PublishedModel of(PublishedModelBody body) {
    return new PublishedModel(body, PublishedModelFile.checksumOf(PublishedModelFile.encode(body)));
  }

  /** As read from a file whose verified checksum is {@code fileSha256}. */
  static PublishedModel of(PublishedModelBody body, String fileSha256) {
    return new PublishedModel(body, fileSha256);
  }

  private static void checkDecision(DecisionRule rule, Optional<CostMatrix> costs) {
    double t = rule.getThreshold();
    require(t > 0 && t < 1, "its decision threshold " + t + " is not strictly between 0 and 1");
    switch (rule.getRule()) {
      case HALF -> require(t == 0.5, "its decision rule says 0.5 but the threshold is " + t);
      case BAYES_COST -> {
        require(costs.isPresent(), "its decision rule follows a cost matrix that its job does not have");
        require(Math.abs(t - costs.get().bayesThreshold()) <= 1e-12, "its decision threshold " + t
            + " does not follow from the job's cost matrix (" + costs.get().bayesThreshold() + ")");
      }
      default -> throw new IllegalArgumentException("its decision rule " + rule.getRule()
          + " is not one this version knows");
    }
  }

  /** The decision rule for a job: the cost matrix's Bayes threshold, or 0.5 without one. */
  public static DecisionRule decisionRule(JobSpec spec) {
    return spec.evaluation().costMatrix()
        .map(c -> DecisionRule.newBuilder().setThreshold(c.bayesThreshold()).setRule(ThresholdRule.BAYES_COST))
        .orElseGet(() -> DecisionRule.newBuilder().setThreshold(0.5).setRule(ThresholdRule.HALF)).build();
  }

  private static void require(boolean condition, String problem) {
    if (!condition) {
      throw new IllegalArgumentException(problem);
    }
  }

  /**
   * Refuses any field or enum value this version does not know, at any depth: a model part of which
   * a bank would silently ignore is not used.
   */
  private static void refuseUnknown(String path, Message message) {
    if (!message.getUnknownFields().asMap().isEmpty()) {
      throw new IllegalArgumentException(path + " carries fields this version does not know (numbers "
          + message.getUnknownFields().asMap().keySet() + ")");
    }
    for (Map.Entry<Descriptors.FieldDescriptor, Object> field : message.getAllFields().entrySet()) {
      String name = path + "." + field.getKey().getName();
      List<?> values = field.getValue() instanceof List<?> list ? list : List.of(field.getValue());
      for (Object value : values) {
        if (value instanceof Message nested) {
          refuseUnknown(name, nested);
        } else if (value instanceof Descriptors.EnumValueDescriptor e && e.getIndex() < 0) {
          throw new IllegalArgumentException(name + " has value " + e.getNumber() + ", which this version does not know");
        } else if (value instanceof ProtocolMessageEnum e && e.getNumber() < 0) {
          throw new IllegalArgumentException(name + " has an enum value this version does not know");
        }
      }
    }
  }

  public PublishedModelBody body() {
    return body;
  }

  /** SHA-256 of the model's file (header and body), hex: what the file's last 32 bytes hold. */
  public String fileSha256() {
    return fileSha256;
  }

  /** SHA-256 of the parameters, hex: the model's identity in the privacy ledger. */
  public String parametersSha256() {
    return body.getModel().getSha256();
  }

  public JobSpec spec() {
    return spec;
  }

  public FeatureEncoding encoding() {
    return encoding;
  }

  public float[] parameters() {
    return parameters.clone();
  }

  public Calibration calibration() {
    return calibration;
  }

  /**
   * Calibrated probability at or above which an application is declined.
   *
   * @throws IllegalStateException for a regression model, which makes no decision
   */
  public double decisionThreshold() {
    if (regression()) {
      throw new IllegalStateException("job '" + spec.id() + "' published a regression model: it predicts a value of '"
          + spec.schema().labelColumn() + "' and has no decision threshold");
    }
    return body.getDecision().getThreshold();
  }

  /** Whether the model predicts a real value (objective regression) rather than a class probability. */
  public boolean regression() {
    return spec.model().objective() == io.consort.model.train.Objective.REGRESSION;
  }

  public Optional<Evaluation> evaluation() {
    return body.hasEvaluation() ? Optional.of(body.getEvaluation()) : Optional.empty();
  }

  public Provenance provenance() {
    return body.getProvenance();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PublishedModel other && body.equals(other.body) && fileSha256.equals(other.fileSha256);
  }

  @Override
  public int hashCode() {
    return Objects.hash(body, fileSha256);
  }

  @Override
  public String toString() {
    return "PublishedModel[job " + spec.id() + ", " + spec.model().type() + ", " + parameters.length
        + " parameters, file SHA-256 " + fileSha256 + "]";
  }
}
