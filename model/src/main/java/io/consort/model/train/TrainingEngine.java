package io.consort.model.train;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What runs a bank's forward and backward passes in {@link LocalTrainer}. Both engines train the
 * same model on the same flat parameters in DL4J's layout, so a job may choose either and the
 * coordinator cannot tell the updates apart beyond float32 rounding. {@code native} is part of this
 * module; {@code dl4j} comes from the consort-model-dl4j module (see
 * {@link io.consort.model.train.spi.TrainingLoopProvider}), which a process that trains with it
 * must have on its class path.
 */
public enum TrainingEngine {
  /**
   * Deeplearning4j's {@code MultiLayerNetwork.fit} on batches sliced once per epoch, with DL4J's
   * Adam updater; every model family. DP-SGD runs on it too: DL4J does not expose per-example
   * gradient norms, so the clipped sum is taken by one backward pass per example ({@link
   * io.consort.model.train.spi.TrainingLoop#clippedGradientSum}), exact but several times slower per
   * step; sampling, noise, L2 and the Adam step are {@link LocalTrainer}'s, as on the native engine.
   * FedProx's proximal term needs the native engine.
   */
  DL4J("dl4j", "consort-model-dl4j"),
  /**
   * Consort's plain-Java passes of dense stacks, 1-D CNNs, LSTMs, SimpleRnns and self-attention on reused buffers (DL4J's math and
   * layout, checked against DL4J in tests), for the models of {@link ModelSpec#nativeKernel()}
   * (every model type, with ReLU, tanh or sigmoid heads, binary or regression, with or without
   * dropout); many times faster per step, with exact
   * per-example norms for DP-SGD in the same batched pass.
   */
  NATIVE("native", "consort-model");

  private final String wireName;
  private final String module;

  TrainingEngine(String wireName, String module) {
    this.wireName = wireName;
    this.module = module;
  }

  /** The lower-case name used in job definitions, configuration and the wire format. */
  public String wireName() {
    return wireName;
  }

  /** The artifact (group {@code io.consort}) that implements this engine. */
  public String module() {
    return module;
  }

  /** The engine whose {@link #wireName()} is {@code name}, ignoring case and surrounding space. */
  public static TrainingEngine fromName(String name) {
    if (name != null) {
      String wanted = name.strip().toLowerCase(Locale.ROOT);
      for (TrainingEngine engine : values()) {
        if (engine.wireName.equals(wanted)) {
          return engine;
        }
      }
    }
    throw new IllegalArgumentException("unknown training engine '" + name + "'; allowed: "
        + Arrays.stream(values()).map(TrainingEngine::wireName).collect(Collectors.joining(", ")));
  }
}
