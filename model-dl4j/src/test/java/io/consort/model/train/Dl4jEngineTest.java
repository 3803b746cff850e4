package io.consort.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.dl4j.Dl4jNetworks;
import io.consort.model.features.EncodedData;
import java.util.Arrays;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The DL4J engine against the native one, which is the reference for the documented semantics
 * (same shuffles, batches, Adam and optimizer-state handling), on German credit rows; and the
 * German credit acceptance check of {@link FederatedGermanCreditTest} on the DL4J engine. In
 * consort-model's package so as to use that test's fixtures and the package's seeded trainers; the
 * engine itself comes through {@link java.util.ServiceLoader}, as in production.
 *
 * <p>Tolerance: Adam's step is {@code lr * m / (sqrt(v) + eps)}, so after a step or two each
 * parameter moves by about {@code lr} times the sign of its gradient whatever the gradient's size.
 * The two engines compute the same gradient in float32 with different summation orders (ND4J's
 * gemm against Java loops), which agree to about 1e-6 relative; Adam's normalisation turns that
 * into step differences of about 1e-6 of {@code lr} except where a gradient is close to zero and
 * its rounding noise is a sizeable fraction of it. Parameters are compared by the relative norm
 * of their change from the start, within {@value #STEP_TOLERANCE}.
 */
class Dl4jEngineTest {
  private static final long SEED = 20240601L;
  private static final double STEP_TOLERANCE = 1e-4;
  private static EncodedData bank;

  @BeforeAll
  static void loadGermanCredit() throws Exception {
    oneNd4jThread();
    bank = FederatedGermanCreditTest.germanCredit("iid", SEED).train().get(0);
  }

  /**
   * ND4J's OpenMP threads spin at barriers; on two cores shared with other builds, two threads made
   * the DL4J engine's German credit run about 7x slower than one (47 s against 7 s), so tests use
   * one.
   */
  static void oneNd4jThread() {
    Nd4j.getEnvironment().setMaxMasterThreads(1);
    Nd4j.getEnvironment().setMaxThreads(1);
  }

  private static EncodedData firstRows(int rows) {
    int width = bank.features();
    return new EncodedData(rows, width, Arrays.copyOf(bank.x(), rows * width),
        Arrays.copyOf(bank.y(), rows));
  }

  /** A trainer whose every round's shuffle generator starts from the same seed. */
  private static LocalTrainer sameShuffleEachRound(ModelSpec spec, EncodedData data,
      TrainingEngine engine) {
    RandomGenerator constant = () -> 7L;
    return new LocalTrainer(spec, data, engine, constant, GaussianNoise.secure());
  }

  @Test
  void oneDl4jStepEqualsOneNativeStep_fromTheSameParametersAndBatch() {
    ModelSpec spec = ModelSpec.defaultMlp(SEED);
    EncodedData batch = firstRows(spec.batchSize());
    float[] start = ModelFactory.initialParameters(spec, batch.features());

    TrainingResult dl4j = sameShuffleEachRound(spec, batch, TrainingEngine.DL4J)
        .train(start, 1, TrainingOptions.standard());
    TrainingResult nativeStep = sameShuffleEachRound(spec, batch, TrainingEngine.NATIVE)
        .train(start, 1, TrainingOptions.standard());

    assertEquals(1, dl4j.steps());
    assertEquals(spec.batchSize(), dl4j.examplesSeen());
    assertEquals(nativeStep.meanLoss(), dl4j.meanLoss(), 1e-5);
    assertStepsClose(start, nativeStep.parameters(), dl4j.parameters());
  }

  @Test
  void dl4jEqualsNative_overSeveralStepsWithL2AndAPartialLastBatch() {
    ModelSpec spec = ModelSpec.defaultMlp(SEED).withL2(1e-3);
    EncodedData rows = firstRows(2 * spec.batchSize() + 5);
    float[] start = ModelFactory.initialParameters(spec, rows.features());

    TrainingResult dl4j = FederatedGermanCreditTest.seededTrainer(spec, rows, 3,
        TrainingEngine.DL4J).train(start, 2, TrainingOptions.standard());
    TrainingResult nativeRun = FederatedGermanCreditTest.seededTrainer(spec, rows, 3,
        TrainingEngine.NATIVE).train(start, 2, TrainingOptions.standard());

    assertEquals(6, dl4j.steps());
    assertEquals(2L * rows.rows(), dl4j.examplesSeen());
    assertStepsClose(start, nativeRun.parameters(), dl4j.parameters());
  }

  /**
   * RESET_EACH_ROUND restarts DL4J's Adam (moments and bias-correction count), so a second round
   * from the same start repeats the first; KEEP_ACROSS_ROUNDS carries the moments, so it does not.
   * Each step is full-batch, so the rows' order only changes float summation order. Either way the
   * DL4J engine follows the native one round for round.
   */
  @ParameterizedTest
  @EnumSource(TrainingOptions.OptimizerState.class)
  void optimizerStateAcrossRounds_matchesTheNativeEngine(TrainingOptions.OptimizerState state) {
    EncodedData rows = firstRows(64);
    ModelSpec spec = ModelSpec.defaultMlp(SEED).withBatchSize(rows.rows());
    float[] start = ModelFactory.initialParameters(spec, rows.features());
    TrainingOptions options = TrainingOptions.standard().withOptimizerState(state);
    LocalTrainer dl4j = sameShuffleEachRound(spec, rows, TrainingEngine.DL4J);
    LocalTrainer nativeTrainer = sameShuffleEachRound(spec, rows, TrainingEngine.NATIVE);

    float[] dl4jFirst = dl4j.train(start, 2, options).parameters();
    float[] dl4jSecond = dl4j.train(start, 2, options).parameters();
    nativeTrainer.train(start, 2, options);
    float[] nativeSecond = nativeTrainer.train(start, 2, options).parameters();

    assertStepsClose(start, nativeSecond, dl4jSecond);
    double change = relativeStepDifference(start, dl4jFirst, dl4jSecond);
    if (state == TrainingOptions.OptimizerState.RESET_EACH_ROUND) {
      assertTrue(change <= STEP_TOLERANCE, "a reset round differs from the first by " + change);
    } else {
      assertTrue(change > 100 * STEP_TOLERANCE, "kept moments changed the round by " + change);
    }
  }

  /**
   * DP-SGD on the DL4J engine (microbatches of one) against the native kernel (layer-wise norms):
   * the same seeded Poisson samples, clip and Adam, no noise, with L2, over 10 steps with a clip
   * that bites on most examples: the updates agree to float32 rounding.
   */
  @Test
  void dpSgdOnTheDl4jEngine_matchesTheNativeKernel_forTheDenseMlp() {
    ModelSpec spec = ModelSpec.defaultMlp(SEED).withL2(1e-3);
    EncodedData rows = firstRows(100);
    float[] start = ModelFactory.initialParameters(spec, rows.features());
    TrainingOptions dp = TrainingOptions.withDpSgd(new DpSgdConfig(0.0, 0.05, 0.2));

    TrainingResult nativeDp = FederatedGermanCreditTest.seededTrainer(spec, rows, 3, TrainingEngine.NATIVE)
        .train(start, 2, dp);
    TrainingResult dl4jDp = FederatedGermanCreditTest.seededTrainer(spec, rows, 3, TrainingEngine.DL4J)
        .train(start, 2, dp);

    assertEquals(10, dl4jDp.steps());
    assertEquals(nativeDp.examplesSeen(), dl4jDp.examplesSeen());
    assertEquals(nativeDp.meanLoss(), dl4jDp.meanLoss(), 1e-4);
    assertStepsClose(start, nativeDp.parameters(), dl4jDp.parameters());
  }

  /** The heads the native engine computes besides ReLU classifiers: tanh, sigmoid, regression. */
  static java.util.stream.Stream<ModelSpec> otherHeads() {
    ModelSpec mlp = ModelSpec.defaultMlp(SEED).withL2(1e-3);
    return java.util.stream.Stream.of(
        mlp.withActivation(HiddenActivation.TANH, 0),
        mlp.withActivation(HiddenActivation.SIGMOID, 0),
        mlp.withObjective(Objective.REGRESSION),
        mlp.withActivation(HiddenActivation.TANH, 0).withObjective(Objective.REGRESSION));
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.MethodSource("otherHeads")
  void dl4jEqualsNative_overSeveralSteps_forTanhSigmoidAndRegressionHeads(ModelSpec spec) {
    EncodedData rows = firstRows(2 * spec.batchSize() + 5);
    float[] start = ModelFactory.initialParameters(spec, rows.features());

    TrainingResult dl4j = FederatedGermanCreditTest.seededTrainer(spec, rows, 3,
        TrainingEngine.DL4J).train(start, 2, TrainingOptions.standard());
    TrainingResult nativeRun = FederatedGermanCreditTest.seededTrainer(spec, rows, 3,
        TrainingEngine.NATIVE).train(start, 2, TrainingOptions.standard());

    assertEquals(6, nativeRun.steps());
    assertStepsClose(start, nativeRun.parameters(), dl4j.parameters());
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.MethodSource("otherHeads")
  void dpSgdOnTheDl4jEngine_matchesTheNativeKernel_forTanhSigmoidAndRegressionHeads(ModelSpec spec) {
    EncodedData rows = firstRows(100);
    float[] start = ModelFactory.initialParameters(spec, rows.features());
    TrainingOptions dp = TrainingOptions.withDpSgd(new DpSgdConfig(0.0, 0.05, 0.2));

    TrainingResult nativeDp = FederatedGermanCreditTest.seededTrainer(spec, rows, 3, TrainingEngine.NATIVE)
        .train(start, 2, dp);
    TrainingResult dl4jDp = FederatedGermanCreditTest.seededTrainer(spec, rows, 3, TrainingEngine.DL4J)
        .train(start, 2, dp);

    assertEquals(nativeDp.examplesSeen(), dl4jDp.examplesSeen());
    assertEquals(nativeDp.meanLoss(), dl4jDp.meanLoss(), 1e-4);
    assertStepsClose(start, nativeDp.parameters(), dl4jDp.parameters());
  }

  /**
   * A regression MLP with tanh layers and dropout: trained on either engine (the job's choice; DL4J
   * when asked), its parameters score the same through the native {@link Predictor} (no dropout),
   * the DL4J engine's provider and DL4J's own network output; native training lowers the squared
   * error.
   */
  @ParameterizedTest
  @EnumSource(TrainingEngine.class)
  void aDropoutRegressionModel_trainedOnEitherEngine_scoresTheSameOnBoth(TrainingEngine engine) {
    ModelSpec spec = ModelSpec.defaultMlp(SEED).withActivation(HiddenActivation.TANH, 0.2)
        .withObjective(Objective.REGRESSION);
    float[] start = ModelFactory.initialParameters(spec, bank.features());
    LocalTrainer trainer = FederatedGermanCreditTest.seededTrainer(spec, bank, 5, engine);
    assertEquals(engine, trainer.engine());
    float[] trained = trainer.train(start, 5, TrainingOptions.standard()).parameters();

    float[] predicted = Predictor.predict(spec, trained, bank);
    float[] provider = LocalTrainer.provider(TrainingEngine.DL4J).predict(spec, trained, bank);
    float[] reference = Dl4jNetworks.network(spec, bank.features(), trained)
        .output(Nd4j.createFromArray(bank.x()).reshape(bank.rows(), bank.features()))
        .toFloatVector();
    for (int r = 0; r < bank.rows(); r++) {
      assertEquals(reference[r], predicted[r], 1e-5, "row " + r);
      assertEquals(provider[r], predicted[r], 1e-5, "row " + r);
    }
    double before = meanSquaredError(Predictor.predict(spec, start, bank), bank.y());
    double after = meanSquaredError(predicted, bank.y());
    assertTrue(after < 0.8 * before, engine + ": mean squared error " + before + " before, " + after + " after");
  }

  private static double meanSquaredError(float[] predicted, float[] labels) {
    double sum = 0;
    for (int r = 0; r < predicted.length; r++) {
      sum += Math.pow(predicted[r] - labels[r], 2);
    }
    return sum / predicted.length;
  }

  @Test
  void dl4jOutputEqualsPredictor_afterDl4jTraining() {
    ModelSpec spec = ModelSpec.defaultMlp(SEED);
    float[] trained = FederatedGermanCreditTest.seededTrainer(spec, bank, 5, TrainingEngine.DL4J)
        .train(ModelFactory.initialParameters(spec, bank.features()), 2,
            TrainingOptions.standard()).parameters();

    float[] predicted = Predictor.predict(spec, trained, bank);
    float[] reference = Dl4jNetworks.network(spec, bank.features(), trained)
        .output(Nd4j.createFromArray(bank.x()).reshape(bank.rows(), bank.features()))
        .toFloatVector();
    for (int r = 0; r < bank.rows(); r++) {
      assertEquals(reference[r], predicted[r], 1e-5, "row " + r);
    }
  }

  @Test
  void fedAvgMatchesCentralisedAuc_onTheDl4jEngine() throws Exception {
    FederatedGermanCreditTest.assertFedAvgMatchesCentralisedAuc(TrainingEngine.DL4J);
  }

  /** ||(b - start) - (a - start)|| / ||a - start||: how far apart two updates from start are. */
  private static double relativeStepDifference(float[] start, float[] a, float[] b) {
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < start.length; i++) {
      diff += Math.pow((double) b[i] - a[i], 2);
      norm += Math.pow((double) a[i] - start[i], 2);
    }
    return Math.sqrt(diff / norm);
  }

  static void assertStepsClose(float[] start, float[] expected, float[] actual) {
    double relative = relativeStepDifference(start, expected, actual);
    System.out.printf("dl4j vs native update: relative difference %.3g%n", relative);
    assertTrue(relative <= STEP_TOLERANCE, "relative difference of updates " + relative);
  }
}
