package io.consort.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataSchema;
import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.train.HiddenActivation;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelType;
import io.consort.model.train.Predictor;
import io.consort.model.train.TrainingEngine;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.v1.ModelParameters;
import io.consort.scoring.explain.Attribution;
import io.consort.scoring.explain.Attributor;
import io.consort.scoring.v1.Provenance;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Every model a job can publish is scored: dense networks of any activation and dropout in plain
 * Java with reason codes, sequence models by the DL4J engine without them. The scores are those the
 * banks' evaluation computed for the same parameters ({@link Predictor}, on DL4J for these models).
 */
class ScorerModelFamiliesTest {

  @BeforeAll
  static void oneThread() {
    Nd4j.getEnvironment().setMaxMasterThreads(1);
    Nd4j.getEnvironment().setMaxThreads(1);
  }

  @ParameterizedTest
  @EnumSource(HiddenActivation.class)
  void aDenseModelWithDropout_isScoredAsTheBanksEvaluationScoredIt_withCompleteReasonCodes(
      HiddenActivation activation) throws Exception {
    GermanCreditModels.Fixture german = GermanCreditModels.mlp();
    JobSpec spec = german.spec().toBuilder().id("german-" + activation.wireName()).activation(activation)
        .dropout(0.25).engine(TrainingEngine.DL4J).build();
    float[] parameters = perturbed(ModelFactory.initialParameters(spec.model(), german.encoding().featureCount()));
    Scorer scorer = Scorer.of(publish(spec, german.encoding(), parameters));
    assertTrue(scorer.hasReasonCodes());
    assertTrue(cardMethod(scorer).endsWith(activation == HiddenActivation.RELU
        ? "exact along the path's linear pieces" : "by checked Gauss-Legendre quadrature"), cardMethod(scorer));

    float[] evaluated = Predictor.predict(spec.model(), parameters, german.encodedTest());
    for (int r = 0; r < german.test().rows(); r++) {
      Score s = scorer.score(german.row(r));
      assertEquals(evaluated[r], s.modelProbability(), 2e-6, "row " + r);
      if (r % 10 == 0) {
        Attribution a = scorer.explain(german.row(r));
        double sum = Arrays.stream(a.perColumn()).sum();
        assertEquals(a.logit() - a.referenceLogit(), sum, Attributor.COMPLETENESS_TOLERANCE
            * scorer.model().calibration().slope(), "row " + r + "'s contributions");
      }
    }
  }

  @ParameterizedTest
  @EnumSource(value = ModelType.class, names = {"LSTM", "SIMPLE_RNN", "CNN1D", "ATTENTION"})
  void aSequenceModel_isScoredByTheDl4jEngine_withoutReasonCodes(ModelType type) throws Exception {
    int channels = 2;
    int window = 6;
    List<String> columns = new ArrayList<>();
    for (int c = 0; c < channels * window; c++) {
      columns.add("v" + c);
    }
    DataSchema schema = new DataSchema(columns, List.of(), "up", "1");
    double[] means = new double[columns.size()];
    double[] stds = new double[columns.size()];
    Arrays.fill(stds, 1);
    FeatureEncoding encoding = new FeatureEncoding(schema, means, stds, List.of());
    JobSpec spec = JobSpec.builder().id("market-" + type.wireName()).schema(schema).modelType(type).window(window)
        .units(8).kernelSize(type == ModelType.CNN1D ? 3 : null).heads(type == ModelType.ATTENTION ? 2 : null)
        .engine(TrainingEngine.DL4J).build();
    float[] parameters = perturbed(ModelFactory.initialParameters(spec.model(), encoding.featureCount()));
    Scorer scorer = Scorer.of(publish(spec, encoding, parameters));
    assertFalse(scorer.hasReasonCodes());
    assertEquals(0, scorer.reasonCodes());
    assertEquals("none: a " + type.wireName() + " model is scored (with DL4J) without reason codes",
        cardMethod(scorer));

    int rows = 40;
    SplittableRandom random = new SplittableRandom(3);
    float[] x = new float[rows * columns.size()];
    List<Map<String, String>> raw = new ArrayList<>();
    for (int r = 0; r < rows; r++) {
      Map<String, String> row = new LinkedHashMap<>();
      for (int c = 0; c < columns.size(); c++) {
        x[r * columns.size() + c] = (float) random.nextGaussian();
        row.put(columns.get(c), Float.toString(x[r * columns.size() + c]));
      }
      raw.add(row);
    }
    float[] evaluated = Predictor.predict(spec.model(), parameters, new EncodedData(rows, columns.size(), x,
        new float[rows]));
    List<RowOutcome> outcomes = scorer.scoreAll(raw);
    for (int r = 0; r < rows; r++) {
      Score s = outcomes.get(r).score().orElseThrow();
      assertEquals(evaluated[r], s.modelProbability(), 2e-6, "row " + r);
      assertTrue(s.reasons().isEmpty());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> scorer.withReasonCodes(3));
    assertTrue(e.getMessage().contains("a " + type.wireName() + " model is scored without reason codes"),
        e.getMessage());
    assertThrows(IllegalStateException.class, () -> scorer.explain(raw.get(0)));
  }

  /** What the model card says of the model's reason codes. */
  private static String cardMethod(Scorer scorer) throws Exception {
    return new com.fasterxml.jackson.databind.ObjectMapper().readTree(io.consort.scoring.card.ModelCard.json(
        scorer.model())).at("/reason_codes/method").asText();
  }

  /** Parameters with nonzero biases and some spread, so no unit sits at its activation's centre. */
  private static float[] perturbed(float[] initial) {
    SplittableRandom random = new SplittableRandom(11);
    float[] p = initial.clone();
    for (int i = 0; i < p.length; i++) {
      p[i] = (float) (2 * p[i] + 0.1 * random.nextGaussian());
    }
    return p;
  }

  static PublishedModel publish(JobSpec spec, FeatureEncoding encoding, float[] parameters) {
    ModelParameters model = ModelWire.withValues(ModelParameters.newBuilder()
        .setSpec(JobSpecWire.model(spec).toBuilder().setInputFeatures(encoding.featureCount()))
        .setEncoding(ModelWire.encoding(encoding)).build(), parameters, 10);
    return ModelPublication.publish(spec, model, Optional.empty(), Provenance.newBuilder().setJobId(spec.id()).build());
  }
}
