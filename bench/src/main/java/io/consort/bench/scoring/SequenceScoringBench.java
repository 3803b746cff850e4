package io.consort.bench.scoring;

import io.consort.model.dl4j.Dl4jTrainingLoopProvider;
import io.consort.model.features.EncodedData;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.ModelType;
import io.consort.model.train.Objective;
import io.consort.model.train.Predictor;
import io.consort.model.train.SequenceSpec;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Rows per second of a sequence model's logits as the scorer computes them ({@link Predictor#logits}:
 * the native engine for the ReLU LSTM and 1-D CNN) against the DL4J engine's identity-output network
 * for the same parameters (what the scorer used before), one row at a time and in batches of 1,024,
 * in the same run. A window of 30 steps of 4 channels, 32 units (kernel 3 for the CNN), head 16.
 * Prints one JSON line per model of medians and the ratios native / DL4J. Arguments: {@code [samples]}
 * (default 3).
 */
public final class SequenceScoringBench {
  private static final int BATCH = 1024;
  private static final long SAMPLE_NANOS = 700_000_000L;

  private SequenceScoringBench() {}

  public static void main(String[] args) {
    int samples = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    int channels = 4;
    int window = 30;
    int features = channels * window;
    java.util.random.RandomGenerator random = io.consort.model.random.ReproducibleRandom.of("sequence-scoring-bench", 1);
    float[] x = new float[BATCH * features];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    EncodedData batch = new EncodedData(BATCH, features, x, new float[BATCH]);
    EncodedData one = new EncodedData(1, features, Arrays.copyOf(x, features), new float[1]);
    Dl4jTrainingLoopProvider dl4j = new Dl4jTrainingLoopProvider();
    for (ModelType type : List.of(ModelType.LSTM, ModelType.CNN1D)) {
      ModelSpec spec = ModelSpec.sequence(type, new SequenceSpec(window, 32, type == ModelType.CNN1D ? 3 : 0, 0),
          List.of(16), Objective.BINARY, 3);
      ModelSpec identityOutput = spec.withObjective(Objective.REGRESSION);
      float[] parameters = ModelFactory.initialParameters(spec, features);
      float[] nativeLogits = Predictor.logits(spec, parameters, batch);
      float[] dl4jLogits = dl4j.predict(identityOutput, parameters, batch);
      double gap = 0;
      for (int r = 0; r < BATCH; r++) {
        gap = Math.max(gap, Math.abs(nativeLogits[r] - dl4jLogits[r]));
      }
      double[][] rates = new double[4][samples];
      Runnable[] calls = {
          () -> Predictor.logits(spec, parameters, one),
          () -> dl4j.predict(identityOutput, parameters, one),
          () -> Predictor.logits(spec, parameters, batch),
          () -> dl4j.predict(identityOutput, parameters, batch)};
      int[] rows = {1, 1, BATCH, BATCH};
      for (int k = 0; k < calls.length; k++) {
        rate(calls[k], rows[k]); // warm-up, untimed
      }
      for (int s = 0; s < samples; s++) {
        for (int k = 0; k < calls.length; k++) {
          rates[k][s] = rate(calls[k], rows[k]);
        }
      }
      double nativeRow = ScoringBench.median(rates[0]);
      double dl4jRow = ScoringBench.median(rates[1]);
      double nativeBatch = ScoringBench.median(rates[2]);
      double dl4jBatch = ScoringBench.median(rates[3]);
      System.out.printf(Locale.ROOT, "{\"model\": \"%s\", \"parameters\": %d, \"samples\": %d, \"native_row\": %.1f, "
          + "\"dl4j_row\": %.1f, \"native_batch\": %.1f, \"dl4j_batch\": %.1f, \"ratio_row\": %.2f, "
          + "\"ratio_batch\": %.2f, \"max_logit_gap\": %.2e}%n", type.wireName(), parameters.length, samples,
          nativeRow, dl4jRow, nativeBatch, dl4jBatch, nativeRow / dl4jRow, nativeBatch / dl4jBatch, gap);
    }
  }

  private static double rate(Runnable call, int rows) {
    long start = System.nanoTime();
    long calls = 0;
    long now;
    do {
      call.run();
      calls++;
      now = System.nanoTime();
    } while (now - start < SAMPLE_NANOS);
    return calls * (double) rows / ((now - start) / 1e9);
  }
}
