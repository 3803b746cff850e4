package io.consort.model.dl4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.eval.ExactMetrics;
import io.consort.model.features.EncodedData;
import io.consort.model.random.ReproducibleRandom;
import io.consort.model.train.DpSgdConfig;
import io.consort.model.train.HiddenActivation;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelType;
import io.consort.model.train.Objective;
import io.consort.model.train.Predictor;
import io.consort.model.train.TrainingEngine;
import io.consort.model.train.TrainingOptions;
import io.consort.model.train.TrainingResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import org.deeplearning4j.nn.modelimport.keras.KerasModelImport;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The brief's 64-32-1 loan-risk network brought from Keras (fixtures written by
 * src/test/resources/keras/make_fixtures.py with h5py in the Keras 2 HDF5 layout): imported into a
 * Consort model with the file's weights, trained federatedly under record-level DP-SGD, and a file
 * with a layer Consort cannot train refused naming the layer.
 */
class KerasImportTest {
  private static final Path FIXTURES = Path.of("src/test/resources/keras");

  @BeforeAll
  static void oneThread() {
    Nd4j.getEnvironment().setMaxMasterThreads(1);
    Nd4j.getEnvironment().setMaxThreads(1);
  }

  @Test
  void theKerasLoanRiskNetwork_importsAsA64x32MlpWithItsWeights_computingWhatDl4jsImportComputes() throws Exception {
    Path file = FIXTURES.resolve("loan_risk_23_64_32_1.h5");
    KerasModels.Imported imported = KerasModels.importSequential(file, 7);
    assertEquals(ModelType.MLP, imported.spec().type());
    assertEquals(List.of(64, 32), imported.spec().hiddenLayers());
    assertEquals(HiddenActivation.RELU, imported.spec().activation());
    assertEquals(Objective.BINARY, imported.spec().objective());
    assertEquals(0.003, imported.spec().learningRate(), 1e-12, "the file's Adam lr");
    assertEquals(23, imported.inputs());
    assertEquals(3649, imported.parameters().length);

    EncodedData rows = rows(50, 1);
    MultiLayerNetwork reference = KerasModelImport.importKerasSequentialModelAndWeights(file.toString(), false);
    float[] expected = reference.output(Nd4j.createFromArray(rows.x()).reshape(rows.rows(), 23)).toFloatVector();
    // the imported weights in Consort's layout give the same outputs on the native kernel
    assertArrayEquals(expected, Predictor.predict(imported.spec(), imported.parameters(), rows), 1e-5f);
  }

  /**
   * Three banks of 200 rows, FedAvg for 3 rounds of DP-SGD (noise multiplier 1.0, clip 1, expected batch 32, on
   * the DL4J engine's per-example clipping), starting from the Keras weights: the held-out AUC rises
   * well above the imported (untrained) network's. Labels come from a noisy logistic rule on the
   * features; the margin is large, and the seeds fix sampling and noise, so the test is deterministic.
   */
  @Test
  void theImportedNetwork_trainsFederatedlyUnderDpSgd() throws Exception {
    KerasModels.Imported imported = KerasModels.importSequential(FIXTURES.resolve("loan_risk_23_64_32_1.h5"), 7);
    List<EncodedData> banks = List.of(rows(200, 11), rows(200, 12), rows(200, 13));
    EncodedData test = rows(400, 14);
    List<LocalTrainer> trainers = new ArrayList<>();
    for (int b = 0; b < banks.size(); b++) {
      RandomGenerator noise = ReproducibleRandom.of("keras-test-noise", b);
      trainers.add(new LocalTrainer(imported.spec().withLearningRate(0.02), banks.get(b), TrainingEngine.DL4J,
          ReproducibleRandom.of("keras-test-sampling", b), sigma -> sigma * noise.nextGaussian()));
    }
    float[] global = imported.parameters().clone();
    double before = ExactMetrics.auc(Predictor.predict(imported.spec(), global, test), test.y());
    for (int round = 0; round < 3; round++) {
      double[] sum = new double[global.length];
      for (int b = 0; b < banks.size(); b++) {
        TrainingResult r = trainers.get(b).train(global, 1,
            TrainingOptions.withDpSgd(DpSgdConfig.forExpectedBatch(1.0, 1.0, 32, banks.get(b).rows())));
        assertEquals(6, r.steps(), "round(1 / q) steps of DP-SGD per epoch, q = 32 / 200");
        for (int i = 0; i < sum.length; i++) {
          sum[i] += r.parameters()[i] / 3.0;
        }
      }
      for (int i = 0; i < sum.length; i++) {
        global[i] = (float) sum[i];
      }
    }
    double after = ExactMetrics.auc(Predictor.predict(imported.spec(), global, test), test.y());
    System.out.printf("Keras loan-risk network, federated DP-SGD: held-out AUC %.4f -> %.4f%n", before, after);
    assertTrue(after > 0.75 && after > before + 0.1, "AUC " + before + " -> " + after);
  }

  @Test
  void aKerasFileWithBatchNormalization_isRefusedNamingTheLayer() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> KerasModels.importSequential(FIXTURES.resolve("loan_risk_with_batch_norm.h5"), 7));
    assertTrue(e.getMessage().contains("'batch_normalization_1' (BatchNormalization) is not supported"),
        e.getMessage());
  }

  /** Synthetic rows for a loan-like task: 23 standard normal features, label from a noisy logistic rule. */
  static EncodedData rows(int n, long seed) {
    RandomGenerator random = ReproducibleRandom.of("keras-test-rows", seed);
    RandomGenerator rule = ReproducibleRandom.of("keras-test-rule", 0);
    double[] w = new double[23];
    for (int j = 0; j < w.length; j++) {
      w[j] = rule.nextGaussian() * 0.8;
    }
    float[] x = new float[n * 23];
    float[] y = new float[n];
    for (int r = 0; r < n; r++) {
      double logit = -0.5;
      for (int j = 0; j < 23; j++) {
        x[r * 23 + j] = (float) random.nextGaussian();
        logit += w[j] * x[r * 23 + j];
      }
      y[r] = random.nextDouble() < 1 / (1 + Math.exp(-logit)) ? 1f : 0f;
    }
    return new EncodedData(n, 23, x, y);
  }
}
