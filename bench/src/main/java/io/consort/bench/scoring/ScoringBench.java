package io.consort.bench.scoring;

import io.consort.model.data.Datasets;
import io.consort.model.data.Table;
import io.consort.model.eval.GlobalMetrics;
import io.consort.model.eval.ScoreHistogram;
import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.Predictor;
import io.consort.model.train.TrainingEngine;
import io.consort.model.train.TrainingOptions;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.v1.ModelParameters;
import io.consort.scoring.ModelPublication;
import io.consort.scoring.PublishedModel;
import io.consort.scoring.RowOutcome;
import io.consort.scoring.Scorer;
import io.consort.scoring.explain.InferenceNetwork;
import io.consort.scoring.v1.Provenance;
import io.consort.spec.CostMatrix;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Rows per second of scoring with a published model, one row at a time and in batches of 1,024, on
 * German credit with the default MLP (63 encoded features, 64-32-1, 6,209 parameters), one thread:
 *
 * <ul>
 *   <li>{@code network}: the network alone on encoded rows ({@link InferenceNetwork}), the work
 *       PyTorch inference does;</li>
 *   <li>{@code scorer}: the embedding API from raw text ({@link Scorer}: validation, encoding, the
 *       network, calibration, decision), without reason codes;</li>
 *   <li>{@code scorer+reasons}: the same with three reason codes (exact integrated gradients).</li>
 * </ul>
 *
 * It also writes the network's parameters, 1,024 encoded rows and their logits to {@code
 * OUT/network.bin} for {@code bench/scripts/torch_inference.py}, which times PyTorch on the same
 * network and rows and checks that its logits match. Prints one JSON line of medians (rows per
 * second). Arguments: {@code [OUT] [samples] [activation]} (defaults {@code
 * bench/target/scoring-bench}, 5, relu). With {@code tanh} or {@code sigmoid} the same 64-32 network
 * has those hidden layers (trained 5 epochs on the dl4j engine) and its reason codes are integrated
 * by checked Gauss-Legendre quadrature; nothing is exported for PyTorch then (its script builds a
 * ReLU network).
 */
public final class ScoringBench {
  static final int BATCH = 1024;
  /** Each timed sample runs for about this long. */
  private static final long SAMPLE_NANOS = 700_000_000L;

  private ScoringBench() {}

  public static void main(String[] args) throws Exception {
    Path out = Path.of(args.length > 0 ? args[0] : "bench/target/scoring-bench");
    int samples = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    io.consort.model.train.HiddenActivation activation = io.consort.model.train.HiddenActivation.fromName(
        args.length > 2 ? args[2] : "relu");
    boolean relu = activation == io.consort.model.train.HiddenActivation.RELU;
    Table all = Datasets.germanCredit().load();
    FeatureEncoding encoding = FeatureEncoding.merge(List.of(LocalFeatureStats.compute(all)));
    JobSpec spec = JobSpec.builder().id("bench").schema(all.schema()).costMatrix(CostMatrix.GERMAN_CREDIT)
        .activation(activation).engine(relu ? TrainingEngine.NATIVE : TrainingEngine.DL4J).build();
    EncodedData encoded = encoding.encode(all);
    // a trained network (ReLU sparsity as in use); bench input only, so trained and calibrated on the same rows
    float[] parameters = new LocalTrainer(spec.model(), encoded, spec.training().engine())
        .train(ModelFactory.initialParameters(spec.model(), encoding.featureCount()), 5, TrainingOptions.standard())
        .parameters();
    ModelParameters model = ModelWire.withValues(ModelParameters.newBuilder().setSpec(JobSpecWire.model(spec)
        .toBuilder().setInputFeatures(encoding.featureCount())).setEncoding(ModelWire.encoding(encoding)).build(),
        parameters, 1);
    ScoreHistogram h = ScoreHistogram.of(Predictor.predict(spec.model(), parameters, encoded), encoded.y(), 100);
    GlobalMetrics m = GlobalMetrics.from(h);
    PublishedModel published = ModelPublication.publish(spec, model, Optional.of(new ModelPublication.FinalEvaluation(
        1, h, m.auc(), m.accuracy(), m.logLoss())), Provenance.newBuilder().setJobId("bench").build());

    int features = encoding.featureCount();
    // German credit has 1,000 rows: the batch of 1,024 repeats the first 24
    float[] batchX = new float[BATCH * features];
    for (int r = 0; r < BATCH; r++) {
      System.arraycopy(encoded.x(), (r % all.rows()) * features, batchX, r * features, features);
    }
    List<String[]> batchRows = new ArrayList<>();
    List<Map<String, String>> rowMaps = new ArrayList<>();
    List<String> columns = spec.schema().featureColumns();
    for (int r = 0; r < BATCH; r++) {
      String[] values = new String[columns.size()];
      Map<String, String> map = new LinkedHashMap<>();
      for (int c = 0; c < values.length; c++) {
        values[c] = all.value(columns.get(c), r % all.rows());
        map.put(columns.get(c), values[c]);
      }
      batchRows.add(values);
      rowMaps.add(map);
    }
    InferenceNetwork network = new InferenceNetwork(spec.model(), features, parameters);
    float[] logits = new float[BATCH];
    network.logits(batchX, BATCH, logits);
    if (relu) {
      export(out.resolve("network.bin"), spec.model().layerSizes(features), parameters, batchX, logits);
    }

    Scorer plain = Scorer.of(published).withReasonCodes(0);
    Scorer withReasons = Scorer.of(published).withReasonCodes(3);
    float[][] singleRows = new float[BATCH][];
    for (int r = 0; r < BATCH; r++) {
      singleRows[r] = Arrays.copyOfRange(batchX, r * features, (r + 1) * features);
    }
    List<Measure> measures = List.of(
        new Measure("network_row", 1, i -> network.logit(singleRows[i % BATCH])),
        new Measure("network_batch", BATCH, i -> network.logits(batchX, BATCH, logits)),
        new Measure("scorer_row", 1, i -> score(plain, rowMaps.get(i % BATCH))),
        new Measure("scorer_batch", BATCH, i -> check(plain.scoreValues(batchRows))),
        new Measure("scorer_reasons_row", 1, i -> score(withReasons, rowMaps.get(i % BATCH))),
        new Measure("scorer_reasons_batch", BATCH, i -> check(withReasons.scoreValues(batchRows))));
    measures.forEach(Measure::rowsPerSecond); // warm-up, untimed
    double[][] rates = new double[measures.size()][samples];
    for (int s = 0; s < samples; s++) {
      for (int k = 0; k < measures.size(); k++) {
        rates[k][s] = measures.get(k).rowsPerSecond();
      }
    }
    StringBuilder json = new StringBuilder("{\"engine\": \"java\", \"activation\": \"").append(
        activation.wireName()).append("\", \"samples\": ").append(samples);
    for (int k = 0; k < measures.size(); k++) {
      json.append(String.format(Locale.ROOT, ", \"%s\": %.1f", measures.get(k).name, median(rates[k])));
    }
    System.out.println(json.append('}'));
  }

  private static void score(Scorer scorer, Map<String, String> row) {
    try {
      scorer.score(row);
    } catch (io.consort.scoring.RowRejectedException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void check(List<RowOutcome> outcomes) {
    if (!outcomes.get(outcomes.size() - 1).isScored()) {
      throw new IllegalStateException("a bench row was refused");
    }
  }

  /** One timed operation: {@code rows} rows per call. */
  private record Measure(String name, int rows, java.util.function.IntConsumer call) {
    double rowsPerSecond() {
      long start = System.nanoTime();
      long calls = 0;
      long now;
      do {
        for (int i = 0; i < 16; i++) {
          call.accept((int) calls++);
        }
        now = System.nanoTime();
      } while (now - start < SAMPLE_NANOS);
      return calls * (double) rows / ((now - start) / 1e9);
    }
  }

  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  /**
   * Little-endian: int layer count + 1, the layer sizes, int parameter count, the parameters (float,
   * DL4J layout), int rows, the rows (float, row-major), their logits (float).
   */
  private static void export(Path file, int[] sizes, float[] parameters, float[] x, float[] logits)
      throws IOException {
    int rows = logits.length;
    ByteBuffer b = ByteBuffer.allocate(4 * (1 + sizes.length + 1 + parameters.length + 1 + x.length + rows))
        .order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(sizes.length);
    for (int s : sizes) {
      b.putInt(s);
    }
    b.putInt(parameters.length);
    for (float p : parameters) {
      b.putFloat(p);
    }
    b.putInt(rows);
    for (float v : x) {
      b.putFloat(v);
    }
    for (float v : logits) {
      b.putFloat(v);
    }
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.write(file, b.array());
  }
}
