package io.consort.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataSchema;
import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.dl4j.Dl4jTrainingLoopProvider;
import io.consort.model.train.HiddenActivation;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelType;
import io.consort.model.train.Objective;
import io.consort.model.train.Predictor;
import io.consort.model.train.TrainingEngine;
import io.consort.model.train.TrainingOptions;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.v1.ModelParameters;
import io.consort.scoring.explain.Attribution;
import io.consort.scoring.explain.Attributor;
import io.consort.scoring.explain.SequenceNetwork;
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
 * Java, sequence models by the native engine, which computes every one (LSTM, SimpleRnn, 1-D CNN and
 * attention, any head), all with reason codes. The scores are those the banks' evaluation
 * computed for the same parameters ({@link Predictor}), and the native ones DL4J's within float32
 * rounding.
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

  /**
   * A published sequence model of each family is scored by the native engine as the banks' evaluation
   * scored it, with reason codes: one per channel (its time steps' contributions summed), positive,
   * largest first, naming the step that contributed most; the per-column contributions add up to the
   * calibrated logit difference from the reference sequence.
   */
  @ParameterizedTest
  @EnumSource(value = ModelType.class, names = {"LSTM", "SIMPLE_RNN", "CNN1D", "ATTENTION"})
  void aSequenceModel_isScoredByTheEngineThatComputesIt_withReasonCodesPerChannel(ModelType type) throws Exception {
    JobSpec spec = sequenceJob(type).build();
    FeatureEncoding encoding = sequenceEncoding(spec.schema());
    float[] parameters = perturbed(ModelFactory.initialParameters(spec.model(), encoding.featureCount()));
    Scorer scorer = Scorer.of(publish(spec, encoding, parameters));
    assertTrue(scorer.hasReasonCodes());
    assertEquals(Scorer.DEFAULT_REASON_CODES, scorer.reasonCodes());
    assertEquals(TrainingEngine.NATIVE, SequenceNetwork.of(spec.model(), encoding.featureCount(), parameters).engine());
    assertTrue(cardMethod(scorer).startsWith("integrated gradients (Sundararajan et al. 2017) over every time step"),
        cardMethod(scorer));
    com.fasterxml.jackson.databind.JsonNode card = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
        io.consort.scoring.card.ModelCard.json(scorer.model()));
    assertEquals("relu", card.at("/model/activation").asText(), "the card names the architecture on either engine");
    assertEquals(0, card.at("/model/dropout").asDouble(), 0);
    assertEquals(Attributor.COMPLETENESS_TOLERANCE, card.at("/reason_codes/completeness_tolerance_logits").asDouble());
    String markdown = io.consort.scoring.card.ModelCard.markdown(scorer.model());
    assertTrue(markdown.contains("per channel (its columns over the window summed)"), markdown);
    assertTrue(markdown.contains("Reference applicant: every time step of every channel at the consortium mean"),
        markdown);
    assertTrue(markdown.contains("checked on every row") && !markdown.contains("piecewise linear"), markdown);

    int rows = 40;
    EncodedData data = randomRows(rows, encoding.featureCount(), 3);
    List<Map<String, String>> raw = rawRows(spec.schema(), data);
    float[] evaluated = Predictor.predict(spec.model(), parameters, data);
    List<RowOutcome> outcomes = scorer.scoreAll(raw);
    List<String> columns = spec.schema().featureColumns();
    int withReasons = 0;
    for (int r = 0; r < rows; r++) {
      Score s = outcomes.get(r).score().orElseThrow();
      assertEquals(evaluated[r], s.modelProbability(), 2e-6, "row " + r);
      double[] contributions = s.contributions();
      assertEquals(CHANNELS * WINDOW, contributions.length);
      double previous = Double.POSITIVE_INFINITY;
      for (ReasonCode reason : s.reasons()) {
        int channel = columns.indexOf(reason.step()) / WINDOW;
        assertEquals(columns.get(channel * WINDOW) + ".." + columns.get(channel * WINDOW + WINDOW - 1),
            reason.column());
        double sum = 0;
        int most = channel * WINDOW;
        for (int c = channel * WINDOW; c < (channel + 1) * WINDOW; c++) {
          sum += contributions[c];
          most = contributions[c] > contributions[most] ? c : most;
        }
        assertEquals(sum, reason.contribution(), 1e-12, "row " + r + " " + reason);
        assertEquals(columns.get(most), reason.step());
        assertEquals(raw.get(r).get(reason.step()), reason.value());
        assertTrue(reason.contribution() > 0 && reason.contribution() <= previous, "row " + r + " " + s.reasons());
        assertEquals(reason.column() + " (most at " + reason.step() + "=" + reason.value() + ")", reason.label());
        previous = reason.contribution();
      }
      withReasons += s.reasons().isEmpty() ? 0 : 1;
      if (r % 5 == 0) {
        Attribution a = scorer.explain(raw.get(r));
        assertEquals(a.logit() - a.referenceLogit(), Arrays.stream(a.perColumn()).sum(),
            Attributor.COMPLETENESS_TOLERANCE * scorer.model().calibration().slope(), "row " + r + "'s contributions");
        assertEquals(Arrays.stream(contributions).sum(), Arrays.stream(a.perColumn()).sum(), 1e-9);
      }
    }
    assertTrue(withReasons > rows / 2, withReasons + " of " + rows + " rows have reasons");
    assertTrue(scorer.withReasonCodes(0).scoreAll(raw).get(0).score().orElseThrow().reasons().isEmpty());
  }

  /**
   * A row whose explanation cannot meet the completeness tolerance within the quadrature's budget (a
   * SimpleRnn at 3 times the Xavier scale, nearly chaotic over its 8 steps: 2 rows of these 100) is not
   * given unfaithful reasons: scoring it with reasons throws naming the row, and so does explaining it.
   */
  @org.junit.jupiter.api.Test
  void aRowThatCannotBeExplainedFaithfully_isRefusedNamingTheRow_andTheRestOfTheBatchIsScored() throws Exception {
    io.consort.model.train.ModelSpec model = io.consort.scoring.explain.SequenceIntegratedGradientsTest.spec(
        ModelType.SIMPLE_RNN, HiddenActivation.RELU);
    FeatureEncoding encoding = io.consort.scoring.explain.SequenceIntegratedGradientsTest.encoding();
    JobSpec spec = JobSpec.builder().id("chaotic-rnn").schema(encoding.schema()).modelType(ModelType.SIMPLE_RNN)
        .window(model.sequence().orElseThrow().window()).units(model.sequence().orElseThrow().units())
        .hiddenLayers(model.hiddenLayers()).build();
    Scorer scorer = Scorer.of(publish(spec, encoding,
        io.consort.scoring.explain.SequenceIntegratedGradientsTest.parameters(model, 3)));
    List<Map<String, String>> raw = rawRows(spec.schema(),
        io.consort.scoring.explain.SequenceIntegratedGradientsTest.rows(100, 11));
    List<RowOutcome> outcomes = scorer.scoreAll(raw);

    assertEquals(100, outcomes.size());
    List<Integer> refused = new java.util.ArrayList<>();
    for (int r = 0; r < outcomes.size(); r++) {
      if (!outcomes.get(r).isScored()) {
        refused.add(r);
        String problem = outcomes.get(r).problems().get(0).toString();
        assertTrue(problem.startsWith("row " + (r + 1) + " of the batch cannot be explained faithfully by job "
            + "'chaotic-rnn''s simple-rnn model: integrated gradients"), problem);
      } else {
        assertTrue(!outcomes.get(r).score().orElseThrow().reasons().isEmpty() || outcomes.get(r).score()
            .orElseThrow().contributions().length > 0, "a scored row carries its explanation");
      }
    }
    assertTrue(!refused.isEmpty() && refused.size() < 100, "some rows, not all, are beyond the tolerance: " + refused);
    int row = refused.get(0);
    assertTrue(org.junit.jupiter.api.Assertions.assertThrows(io.consort.scoring.explain.UnfaithfulExplanationException.class,
        () -> scorer.explain(raw.get(row))).getMessage().contains("cannot be explained faithfully"));
    assertTrue(org.junit.jupiter.api.Assertions.assertThrows(RowRejectedException.class,
        () -> scorer.score(raw.get(row))).getMessage().contains("cannot be explained faithfully"));
    // without reasons the whole batch is scored
    assertEquals(100, scorer.withReasonCodes(0).scoreAll(raw).stream().filter(RowOutcome::isScored).count());
  }

  /**
   * A trained LSTM, SimpleRnn, 1-D CNN and attention model, scored by the native engine, get the probabilities DL4J computes for the
   * same parameters: within 1e-5 absolute, and logits within 1e-5 relative (float32 rounding of different
   * summation orders, as the native kernels' own tests against DL4J).
   */
  @ParameterizedTest
  @EnumSource(value = ModelType.class, names = {"LSTM", "SIMPLE_RNN", "CNN1D", "ATTENTION"})
  void aTrainedNativeSequenceModel_scoresAsDl4jScoresIt(ModelType type) throws Exception {
    JobSpec spec = sequenceJob(type).build();
    assertTrue(spec.model().nativeKernel());
    FeatureEncoding encoding = sequenceEncoding(spec.schema());
    EncodedData train = learnableRows(600, encoding.featureCount(), 5);
    LocalTrainer trainer = new LocalTrainer(spec.model(), train, TrainingEngine.NATIVE, new SplittableRandom(7),
        sigma -> {
          throw new AssertionError("no noise without DP-SGD");
        });
    float[] start = ModelFactory.initialParameters(spec.model(), encoding.featureCount());
    float[] parameters = trainer.train(start, 10, TrainingOptions.standard()).parameters();
    Scorer scorer = Scorer.of(publish(spec, encoding, parameters));

    EncodedData test = learnableRows(200, encoding.featureCount(), 6);
    float[] dl4jProbabilities = new Dl4jTrainingLoopProvider().predict(spec.model(), parameters, test);
    float[] dl4jLogits = new Dl4jTrainingLoopProvider().predict(spec.model().withObjective(Objective.REGRESSION),
        parameters, test);
    float[] nativeLogits = new float[test.rows()];
    SequenceNetwork.of(spec.model(), encoding.featureCount(), parameters).logits(test.x(), test.rows(), nativeLogits);
    List<RowOutcome> outcomes = scorer.scoreAll(rawRows(spec.schema(), test));
    double spread = 0;
    for (int r = 0; r < test.rows(); r++) {
      assertEquals(dl4jLogits[r], nativeLogits[r], 1e-5 * Math.max(1, Math.abs(dl4jLogits[r])), "row " + r);
      assertEquals(dl4jProbabilities[r], outcomes.get(r).score().orElseThrow().modelProbability(), 1e-5, "row " + r);
      spread = Math.max(spread, Math.abs(dl4jLogits[r]));
    }
    assertTrue(spread > 1, "the trained model's logits reach beyond +-1 (largest " + spread + ")");
  }

  /**
   * An LSTM with dropout and a 1-D CNN with a tanh head are the native engine's too: it scores them (without
   * dropout) as DL4J does.
   */
  @ParameterizedTest
  @EnumSource(value = ModelType.class, names = {"LSTM", "CNN1D"})
  void aSequenceModelWithDropoutOrATanhHead_isScoredNatively_asDl4jScoresIt(ModelType type) throws Exception {
    JobSpec spec = (type == ModelType.LSTM ? sequenceJob(type).dropout(0.25)
        : sequenceJob(type).activation(HiddenActivation.TANH)).build();
    assertTrue(spec.model().nativeKernel());
    FeatureEncoding encoding = sequenceEncoding(spec.schema());
    float[] parameters = perturbed(ModelFactory.initialParameters(spec.model(), encoding.featureCount()));
    assertEquals(TrainingEngine.NATIVE, SequenceNetwork.of(spec.model(), encoding.featureCount(), parameters).engine());
    Scorer scorer = Scorer.of(publish(spec, encoding, parameters));
    assertTrue(cardMethod(scorer).startsWith("integrated gradients"), cardMethod(scorer));
    EncodedData data = randomRows(40, encoding.featureCount(), 4);
    float[] dl4j = new Dl4jTrainingLoopProvider().predict(spec.model(), parameters, data);
    List<RowOutcome> outcomes = scorer.scoreAll(rawRows(spec.schema(), data));
    for (int r = 0; r < data.rows(); r++) {
      assertEquals(dl4j[r], outcomes.get(r).score().orElseThrow().modelProbability(), 1e-5, "row " + r);
    }
  }

  private static final int CHANNELS = 2;
  private static final int WINDOW = 6;

  private static io.consort.spec.JobSpecBuilder sequenceJob(ModelType type) {
    List<String> columns = new ArrayList<>();
    for (int c = 0; c < CHANNELS * WINDOW; c++) {
      columns.add("v" + c);
    }
    DataSchema schema = new DataSchema(columns, List.of(), "up", "1");
    return JobSpec.builder().id("market-" + type.wireName()).schema(schema).modelType(type).window(WINDOW)
        .units(8).kernelSize(type == ModelType.CNN1D ? 3 : null).heads(type == ModelType.ATTENTION ? 2 : null)
        .engine(TrainingEngine.DL4J);
  }

  /** Every column as it is (mean 0, standard deviation 1). */
  private static FeatureEncoding sequenceEncoding(DataSchema schema) {
    int columns = schema.featureColumns().size();
    double[] stds = new double[columns];
    Arrays.fill(stds, 1);
    return new FeatureEncoding(schema, new double[columns], stds, List.of());
  }

  private static EncodedData randomRows(int rows, int features, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] x = new float[rows * features];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    return new EncodedData(rows, features, x, new float[rows]);
  }

  /** Random rows labelled 1 when the first half of their columns sums above 0, so a model can learn them. */
  private static EncodedData learnableRows(int rows, int features, long seed) {
    EncodedData data = randomRows(rows, features, seed);
    float[] y = new float[rows];
    for (int r = 0; r < rows; r++) {
      double sum = 0;
      for (int c = 0; c < features / 2; c++) {
        sum += data.x()[r * features + c];
      }
      y[r] = sum > 0 ? 1 : 0;
    }
    return new EncodedData(rows, features, data.x(), y);
  }

  /** The encoded rows as raw text (the identity encoding gives them back). */
  private static List<Map<String, String>> rawRows(DataSchema schema, EncodedData data) {
    List<String> columns = schema.featureColumns();
    List<Map<String, String>> raw = new ArrayList<>();
    for (int r = 0; r < data.rows(); r++) {
      Map<String, String> row = new LinkedHashMap<>();
      for (int c = 0; c < columns.size(); c++) {
        row.put(columns.get(c), Float.toString(data.x()[r * columns.size() + c]));
      }
      raw.add(row);
    }
    return raw;
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
