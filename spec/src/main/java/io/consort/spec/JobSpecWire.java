package io.consort.spec;

import io.consort.model.data.DataSchema;
import io.consort.model.train.HiddenActivation;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.Objective;
import io.consort.model.train.SequenceSpec;
import io.consort.model.train.ModelType;
import io.consort.model.train.TrainingEngine;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.PrivacyPlan;
import io.consort.protocol.v1.PrivacyUnit;
import io.consort.protocol.v1.SecAggPlan;
import io.consort.protocol.v1.ServerStrategy;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * Maps a {@link JobSpec} to the wire's {@code JobPlan} and back. The way back is strict: a plan that
 * arrives from the network gets no defaults; every field must be set to a valid value, and a field
 * the job's mode does not use must be absent. So {@code fromProto(toProto(spec))} equals {@code spec},
 * and a plan that is not exactly a valid specification is refused with the field named.
 */
public final class JobSpecWire {
  private JobSpecWire() {}

  public static JobPlan toProto(JobSpec spec) {
    PrivacySpec p = spec.privacy();
    PrivacyPlan.Builder privacy = PrivacyPlan.newBuilder().setUnit(unit(p.mode())).setDelta(p.delta());
    p.targetEpsilon().ifPresent(privacy::setTargetEpsilon);
    p.record().ifPresent(r -> {
      privacy.setRecordClipNorm(r.clipNorm());
      r.noiseMultiplier().ifPresent(privacy::setRecordNoiseMultiplier);
      r.distributed().ifPresent(d -> privacy.setDistributedRecordNoise(
          io.consort.protocol.v1.DistributedRecordNoise.newBuilder().setColludingBanks(d.colludingBanks())
              .setSamplingRate(d.samplingRate())));
    });
    p.bank().ifPresent(b -> b.noiseMultiplier().ifPresent(privacy::setBankNoiseMultiplier));
    JobPlan.Builder plan = JobPlan.newBuilder().setJobId(spec.id()).setSchema(ModelWire.schema(spec.schema()))
        .setModel(model(spec)).setRounds(spec.training().rounds()).setLocalEpochs(spec.training().localEpochs())
        .setMinBanks(spec.training().minBanks()).setHistogramBins(spec.evaluation().histogramBins())
        .setPrivacy(privacy).setSecureAggregation(secureAggregation(spec)).setStrategy(strategy(spec.training()
            .strategy())).setProximalMu(spec.training().proximalMu());
    spec.initialParameters().ifPresent(initial -> {
      for (float v : initial.values()) {
        plan.addInitialParameters(v);
      }
    });
    spec.evaluation().costMatrix().ifPresent(c -> plan.setCostMatrix(io.consort.protocol.v1.CostMatrix.newBuilder()
        .setFalseNegative(c.falseNegative()).setFalsePositive(c.falsePositive())));
    return plan.build();
  }

  /** The secure-aggregation part of the plan, without per-round values. */
  public static SecAggPlan secureAggregation(JobSpec spec) {
    SecureAggregationSpec a = spec.secureAggregation();
    SecAggPlan.Builder secagg = SecAggPlan.newBuilder().setEnabled(a.enabled()).setModulusBits(a.modulusBits())
        .setClipNorm(a.clipNorm()).setConsistencyCheck(a.consistencyCheck())
        .setUnmaskingWithInput(a.unmaskingWithInput());
    if (a.keyRounds() > 1) { // 1 (fresh keys for every sum) adds nothing to a plan's bytes
      secagg.setKeyRounds(a.keyRounds());
    }
    if (!a.selfMask()) { // written only when false: plans with a self mask stay byte for byte what they were
      secagg.setSelfMask(false);
    }
    a.threshold().ifPresent(secagg::setThreshold);
    a.neighbourDegree().ifPresent(secagg::setNeighbourDegree);
    return secagg.build();
  }

  /** The model part of the plan (architecture, optimiser, engine), without the encoded input width. */
  public static io.consort.protocol.v1.ModelSpec model(JobSpec spec) {
    ModelSpec m = spec.model();
    io.consort.protocol.v1.ModelSpec.Builder b = io.consort.protocol.v1.ModelSpec.newBuilder().setType(switch (m.type()) {
          case MLP -> io.consort.protocol.v1.ModelType.MLP;
          case LOGISTIC_REGRESSION -> io.consort.protocol.v1.ModelType.LOGISTIC_REGRESSION;
          case LSTM -> io.consort.protocol.v1.ModelType.LSTM;
          case SIMPLE_RNN -> io.consort.protocol.v1.ModelType.SIMPLE_RNN;
          case CNN1D -> io.consort.protocol.v1.ModelType.CNN1D;
          case ATTENTION -> io.consort.protocol.v1.ModelType.ATTENTION;
        }).addAllHiddenLayers(m.hiddenLayers()).setBatchSize(m.batchSize()).setLearningRate(m.learningRate())
        .setL2(m.l2()).setSeed(m.seed()).setEngine(spec.training().engine().wireName())
        .setActivation(m.activation().wireName()).setDropout(m.dropout()).setObjective(m.objective().wireName());
    m.sequence().ifPresent(s -> b.setSequence(io.consort.protocol.v1.SequenceLayer.newBuilder().setWindow(s.window())
        .setUnits(s.units()).setKernelSize(s.kernelSize()).setHeads(s.heads())));
    return b.build();
  }

  /**
   * The specification a plan describes.
   *
   * @throws InvalidJobSpecException naming the first field that is missing, invalid, or set although
   *     the job does not use it
   */
  public static JobSpec fromProto(JobPlan plan) {
    refuseUnknownFields("plan", plan);
    DataSchema schema;
    try {
      schema = ModelWire.schema(plan.getSchema());
    } catch (IllegalArgumentException e) {
      throw InvalidJobSpecException.wrap(String.valueOf(e.getMessage()).startsWith("preprocessing")
          ? "schema.preprocessing" : "schema", e);
    }
    io.consort.protocol.v1.ModelSpec m = plan.getModel();
    ModelType type = switch (m.getType()) {
      case MLP -> ModelType.MLP;
      case LOGISTIC_REGRESSION -> ModelType.LOGISTIC_REGRESSION;
      case LSTM -> ModelType.LSTM;
      case SIMPLE_RNN -> ModelType.SIMPLE_RNN;
      case CNN1D -> ModelType.CNN1D;
      case ATTENTION -> ModelType.ATTENTION;
      default -> throw new InvalidJobSpecException("model.type", "must be one of mlp, logistic-regression, lstm, "
          + "simple-rnn, cnn1d, attention, got " + m.getType());
    };
    List<Integer> hidden = new ArrayList<>(m.getHiddenLayersList());
    HiddenActivation activation;
    try {
      activation = HiddenActivation.fromName(m.getActivation());
    } catch (IllegalArgumentException e) {
      throw InvalidJobSpecException.wrap("model.activation", e);
    }
    Objective objective;
    try {
      objective = Objective.fromName(m.getObjective());
    } catch (IllegalArgumentException e) {
      throw InvalidJobSpecException.wrap("model.objective", e);
    }
    Optional<SequenceSpec> sequence;
    try {
      sequence = m.hasSequence() ? Optional.of(new SequenceSpec(m.getSequence().getWindow(), m.getSequence().getUnits(),
          m.getSequence().getKernelSize(), m.getSequence().getHeads())) : Optional.empty();
    } catch (IllegalArgumentException e) {
      throw InvalidJobSpecException.wrap("model.sequence", e);
    }
    ModelSpec model;
    try {
      model = new ModelSpec(type, hidden, m.getBatchSize(), m.getLearningRate(), m.getL2(), m.getSeed(), activation,
          m.getDropout(), objective, sequence);
    } catch (IllegalArgumentException e) {
      throw InvalidJobSpecException.wrap("model", e);
    }
    if (m.getInputFeatures() != 0) {
      throw new InvalidJobSpecException("model.input_features", "is set by the coordinator in a model, not in a "
          + "plan; got " + m.getInputFeatures());
    }
    TrainingEngine engine;
    try {
      engine = TrainingEngine.fromName(m.getEngine());
    } catch (IllegalArgumentException e) {
      throw InvalidJobSpecException.wrap("model.engine", e);
    }
    return new JobSpec(plan.getJobId(), schema, model,
        new TrainingSpec(plan.getRounds(), plan.getLocalEpochs(), plan.getMinBanks(), engine, strategy(plan),
            plan.getProximalMu()),
        privacy(plan.getPrivacy()), secureAggregation(plan.getSecureAggregation()),
        new EvaluationSpec(plan.getHistogramBins(), plan.hasCostMatrix()
            ? Optional.of(new CostMatrix(plan.getCostMatrix().getFalseNegative(), plan.getCostMatrix().getFalsePositive()))
            : Optional.empty()),
        initialParameters(plan));
  }

  private static Optional<InitialParameters> initialParameters(JobPlan plan) {
    if (plan.getInitialParametersCount() == 0) {
      return Optional.empty();
    }
    float[] values = new float[plan.getInitialParametersCount()];
    for (int i = 0; i < values.length; i++) {
      values[i] = plan.getInitialParameters(i);
    }
    return Optional.of(new InitialParameters(values));
  }

  /**
   * A plan with fields this version does not know (a retired {@code test_fraction}, say, or a newer
   * coordinator's setting) is refused: a bank must never run a plan part of which it ignores.
   */
  private static void refuseUnknownFields(String path, com.google.protobuf.Message message) {
    if (!message.getUnknownFields().asMap().isEmpty()) {
      throw new InvalidJobSpecException(path, "carries fields this bank does not know (numbers "
          + message.getUnknownFields().asMap().keySet() + ")");
    }
    message.getAllFields().forEach((field, value) -> {
      if (value instanceof com.google.protobuf.Message nested) {
        refuseUnknownFields(path + "." + field.getName(), nested);
      } else if (value instanceof java.util.List<?> list) {
        for (Object item : list) {
          if (item instanceof com.google.protobuf.Message nested) {
            refuseUnknownFields(path + "." + field.getName(), nested);
          }
        }
      }
    });
  }

  private static ServerStrategy strategy(StrategySpec s) {
    return ServerStrategy.newBuilder().setName(s.name().wireName()).setServerLearningRate(s.serverLearningRate())
        .setBeta1(s.beta1()).setBeta2(s.beta2()).setTau(s.tau()).build();
  }

  private static StrategySpec strategy(JobPlan plan) {
    if (!plan.hasStrategy()) {
      throw new InvalidJobSpecException("strategy", "is required in a plan");
    }
    ServerStrategy s = plan.getStrategy();
    StrategySpec.Name name;
    try {
      name = StrategySpec.Name.fromName(s.getName());
    } catch (IllegalArgumentException e) {
      throw InvalidJobSpecException.wrap("strategy.name", e);
    }
    return new StrategySpec(name, s.getServerLearningRate(), s.getBeta1(), s.getBeta2(), s.getTau());
  }

  private static PrivacySpec privacy(PrivacyPlan p) {
    PrivacyMode mode = switch (p.getUnit()) {
      case PRIVACY_OFF -> PrivacyMode.OFF;
      case RECORD -> PrivacyMode.RECORD;
      case BANK -> PrivacyMode.BANK;
      case RECORD_AND_BANK -> PrivacyMode.BOTH;
      default -> throw new InvalidJobSpecException("privacy.unit", "must be off, record, bank or both, got "
          + p.getUnit());
    };
    if (!mode.recordLevel() && (p.hasRecordClipNorm() || p.hasRecordNoiseMultiplier())) {
      throw new InvalidJobSpecException(p.hasRecordClipNorm() ? "privacy.record_clip_norm"
          : "privacy.record_noise_multiplier", "must be absent with privacy unit " + mode.wireName());
    }
    if (!mode.bankLevel() && p.hasBankNoiseMultiplier()) {
      throw new InvalidJobSpecException("privacy.bank_noise_multiplier", "must be absent with privacy unit "
          + mode.wireName());
    }
    if (!mode.recordLevel() && p.hasDistributedRecordNoise()) {
      throw new InvalidJobSpecException("privacy.record_noise", "must be absent with privacy unit " + mode.wireName());
    }
    if (mode.recordLevel() && !p.hasRecordClipNorm()) {
      throw new InvalidJobSpecException("privacy.record_clip_norm", "is required with privacy unit "
          + mode.wireName());
    }
    Optional<PrivacySpec.RecordDp> record = mode.recordLevel()
        ? Optional.of(new PrivacySpec.RecordDp(p.getRecordClipNorm(),
            p.hasRecordNoiseMultiplier() ? OptionalDouble.of(p.getRecordNoiseMultiplier()) : OptionalDouble.empty(),
            p.hasDistributedRecordNoise() ? Optional.of(new PrivacySpec.DistributedNoise(
                p.getDistributedRecordNoise().getColludingBanks(), p.getDistributedRecordNoise().getSamplingRate()))
                : Optional.empty()))
        : Optional.empty();
    Optional<PrivacySpec.BankDp> bank = mode.bankLevel()
        ? Optional.of(new PrivacySpec.BankDp(
            p.hasBankNoiseMultiplier() ? OptionalDouble.of(p.getBankNoiseMultiplier()) : OptionalDouble.empty()))
        : Optional.empty();
    return new PrivacySpec(mode, p.getDelta(),
        p.hasTargetEpsilon() ? OptionalDouble.of(p.getTargetEpsilon()) : OptionalDouble.empty(), record, bank);
  }

  private static SecureAggregationSpec secureAggregation(SecAggPlan a) {
    if (a.getQuantizerBanks() != 0 || a.getPerBankSigma() != 0) {
      throw new InvalidJobSpecException("secure_aggregation", "of a plan must not carry per-round values "
          + "(quantizer_banks, per_bank_sigma)");
    }
    if (!a.hasConsistencyCheck()) {
      // no default on the way in: a plan that leaves it out must not weaken a bank to the honest-but-
      // curious model by omission
      throw new InvalidJobSpecException("secure_aggregation.consistency_check", "is required in a plan (true or "
          + "false)");
    }
    if (a.hasSelfMask() && a.getSelfMask()) {
      throw new InvalidJobSpecException(SecureAggregationSpec.SELF_MASK_KEY, "is written in a plan only when false "
          + "(absent: true, a self mask); a plan that sets it true is not one this coordinator version writes");
    }
    return new SecureAggregationSpec(a.getEnabled(),
        a.hasThreshold() ? OptionalInt.of(a.getThreshold()) : OptionalInt.empty(),
        a.hasNeighbourDegree() ? OptionalInt.of(a.getNeighbourDegree()) : OptionalInt.empty(),
        a.getModulusBits(), a.getClipNorm(), a.getConsistencyCheck(), a.getUnmaskingWithInput(),
        a.getKeyRounds() == 0 ? 1 : a.getKeyRounds(), // absent: 1, fresh keys for every sum
        !a.hasSelfMask()); // absent: a self mask, as in every plan before protocol version 7
  }

  private static PrivacyUnit unit(PrivacyMode mode) {
    return switch (mode) {
      case OFF -> PrivacyUnit.PRIVACY_OFF;
      case RECORD -> PrivacyUnit.RECORD;
      case BANK -> PrivacyUnit.BANK;
      case BOTH -> PrivacyUnit.RECORD_AND_BANK;
    };
  }
}
