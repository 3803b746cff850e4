package io.consort.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.eval.ExactMetrics;
import io.consort.model.features.EncodedData;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DpSgdTrainingTest {
  private static final long SEED = 11;

  @Test
  void takesRoundEpochsOverQSteps_andSamplesAboutQRowsPerStep() throws Exception {
    EncodedData data = FederatedGermanCreditTest.germanCredit("iid", SEED).pooledTrain();
    ModelSpec spec = ModelSpec.defaultMlp(SEED);
    DpSgdConfig dp = DpSgdConfig.forExpectedBatch(1.0, 1.0, 32, data.rows());
    TrainingResult result = FederatedGermanCreditTest.seededTrainer(spec, data, SEED)
        .train(ModelFactory.initialParameters(spec, data.features()), 2, TrainingOptions
            .withDpSgd(dp));

    assertEquals(Math.round(2 / dp.samplingRate()), result.steps());
    // Binomial(steps * rows, q): mean 2 * rows, sd about 55; 6 sd would fail with p < 1e-8.
    double sd = Math.sqrt(result.steps() * data.rows() * dp.samplingRate() * (1 - dp.samplingRate()));
    assertEquals(2.0 * data.rows(), result.examplesSeen(), 6 * sd);
  }

  @Test
  void learnsGermanCreditUnderRecordLevelDp() throws Exception {
    FederatedGermanCreditTest.Consortium consortium =
        FederatedGermanCreditTest.germanCredit("iid", SEED);
    ModelSpec spec = ModelSpec.defaultMlp(SEED);
    int rowsPerBank = consortium.train().get(0).rows();
    TrainingOptions options =
        TrainingOptions.withDpSgd(DpSgdConfig.forExpectedBatch(1.0, 1.0, 64, rowsPerBank));
    float[] model = FederatedGermanCreditTest.federatedAveraging(consortium, spec, 10, options,
        SEED);
    EncodedData test = consortium.pooledTest();
    double auc = ExactMetrics.auc(Predictor.predict(spec, model, test), test.y());
    System.out.printf("German credit, 3 banks iid, 10 rounds, DP-SGD z=1 C=1 batch 64: AUC %.4f%n",
        auc);
    // About 270 rows per bank is very little for DP-SGD; the bar is "clearly learns", not parity.
    assertTrue(auc > 0.65, "AUC " + auc);
  }

  @Test
  void noiseChangesTheResult_andZeroNoiseIsReproducible() throws Exception {
    EncodedData data = FederatedGermanCreditTest.germanCredit("iid", SEED).train().get(0);
    ModelSpec spec = ModelSpec.defaultMlp(SEED);
    float[] start = ModelFactory.initialParameters(spec, data.features());
    DpSgdConfig quiet = DpSgdConfig.forExpectedBatch(0, 1.0, 32, data.rows());
    DpSgdConfig noisy = DpSgdConfig.forExpectedBatch(1, 1.0, 32, data.rows());

    float[] a = FederatedGermanCreditTest.seededTrainer(spec, data, 5)
        .train(start, 1, TrainingOptions.withDpSgd(quiet)).parameters();
    float[] b = FederatedGermanCreditTest.seededTrainer(spec, data, 5)
        .train(start, 1, TrainingOptions.withDpSgd(quiet)).parameters();
    float[] c = FederatedGermanCreditTest.seededTrainer(spec, data, 5)
        .train(start, 1, TrainingOptions.withDpSgd(noisy)).parameters();
    assertTrue(Arrays.equals(a, b));
    assertFalse(Arrays.equals(a, c));
  }

  @Test
  void productionTrainerRuns_withSecureRandomness() throws Exception {
    EncodedData data = FederatedGermanCreditTest.germanCredit("iid", SEED).train().get(0);
    ModelSpec spec = ModelSpec.defaultMlp(SEED);
    LocalTrainer trainer = new LocalTrainer(spec, data);
    TrainingResult result = trainer.train(ModelFactory.initialParameters(spec, data.features()), 1,
        TrainingOptions.withDpSgd(DpSgdConfig.forExpectedBatch(1.1, 1.0, 32, data.rows())));
    for (float p : result.parameters()) {
      assertTrue(Float.isFinite(p));
    }
    assertTrue(result.meanLoss() > 0);
  }

  @Test
  void refusesInvalidPrivacyParameters() {
    assertThrows(IllegalArgumentException.class, () -> new DpSgdConfig(-1, 1, 0.1));
    assertThrows(IllegalArgumentException.class, () -> new DpSgdConfig(Double.NaN, 1, 0.1));
    assertThrows(IllegalArgumentException.class, () -> new DpSgdConfig(1, 0, 0.1));
    assertThrows(IllegalArgumentException.class, () -> new DpSgdConfig(1, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> new DpSgdConfig(1, 1, 1.5));
  }

  @Test
  void polarSamplerHasUnitVariance() {
    // 400,000 samples: the sample variance's sd is about 0.0022; a 0.015 bound fails with
    // p < 1e-10, and so does 0.01 for the mean (sd 0.0016).
    PolarGaussianNoise noise = new PolarGaussianNoise(new SplittableRandom(3));
    checkMoments(noise, 2.5);
    checkMoments(GaussianNoise.secure(), 0.7);
  }

  private static void checkMoments(GaussianNoise noise, double sigma) {
    float[] samples = new float[400_000];
    noise.addTo(samples, samples.length, sigma);
    double sum = 0;
    double squares = 0;
    for (float s : samples) {
      sum += s;
      squares += (double) s * s;
    }
    double mean = sum / samples.length;
    assertEquals(0, mean / sigma, 0.01);
    assertEquals(1, (squares / samples.length - mean * mean) / (sigma * sigma), 0.015);
  }
}
