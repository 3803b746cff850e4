package io.consort.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.CategoricalRules;
import io.consort.model.data.DataSchema;
import io.consort.model.data.Imputation;
import io.consort.model.data.NumericRules;
import io.consort.model.data.Preprocessing;
import io.consort.model.data.QuantileClip;
import io.consort.model.train.HiddenActivation;
import io.consort.model.train.ModelType;
import io.consort.model.train.TrainingEngine;
import io.consort.protocol.v1.JobPlan;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class JobSpecTest {
  static final DataSchema SCHEMA = new DataSchema(List.of("income", "debt"),
      List.of(DataSchema.CategoricalColumn.open("purpose"),
          new DataSchema.CategoricalColumn("housing", List.of("own", "rent"))), "default", "yes");

  static JobSpecBuilder base() {
    return JobSpec.builder().id("loans-2026").schema(SCHEMA);
  }

  @Test
  void defaults_areThoseOfAJobFile() {
    JobSpec spec = base().build();
    assertEquals(10, spec.training().rounds());
    assertEquals(1, spec.training().localEpochs());
    assertEquals(2, spec.training().minBanks());
    assertEquals(TrainingEngine.NATIVE, spec.training().engine(), "the default MLP is dense: the native kernel");
    assertEquals(ModelType.MLP, spec.model().type());
    assertEquals(List.of(64, 32), spec.model().hiddenLayers());
    assertEquals(PrivacyMode.OFF, spec.privacy().mode());
    assertEquals(1e-5, spec.privacy().delta());
    assertTrue(spec.secureAggregation().enabled());
    assertTrue(spec.secureAggregation().threshold().isEmpty());
    assertEquals(32, spec.secureAggregation().modulusBits());
    assertEquals(100, spec.evaluation().histogramBins());
  }

  @Test
  void recordLevelDp_defaultsToTheNativeEngineAndAUnitClip() {
    JobSpec spec = base().privacy(PrivacyMode.RECORD).targetEpsilon(3.0).build();
    assertEquals(TrainingEngine.NATIVE, spec.training().engine());
    assertEquals(1.0, spec.privacy().record().orElseThrow().clipNorm());
    assertTrue(spec.privacy().record().orElseThrow().noiseMultiplier().isEmpty());
  }

  @ParameterizedTest
  @EnumSource(PrivacyMode.class)
  void everyPrivacyMode_roundTripsThroughTheWireUnchanged(PrivacyMode mode) {
    JobSpecBuilder b = base().privacy(mode).rounds(7).localEpochs(2).minBanks(3).delta(1e-6)
        .histogramBins(500).modelType(ModelType.MLP).hiddenLayers(List.of(16, 8)).batchSize(64)
        .learningRate(0.02).l2(1e-4).modelSeed(11).threshold(3).neighbourDegree(4).modulusBits(24)
        .secureAggregationClipNorm(2.5);
    if (mode != PrivacyMode.OFF) {
      b.targetEpsilon(2.0);
    }
    if (mode.recordLevel()) {
      b.recordClipNorm(0.5).recordNoiseMultiplier(1.1);
    }
    if (mode.bankLevel()) {
      b.bankNoiseMultiplier(0.8);
    }
    JobSpec spec = b.build();
    assertEquals(spec, JobSpecWire.fromProto(JobSpecWire.toProto(spec)));
  }

  @Test
  void logisticRegressionWithDefaults_roundTrips() {
    JobSpec spec = base().modelType(ModelType.LOGISTIC_REGRESSION).secureAggregation(false).build();
    assertEquals(List.of(), spec.model().hiddenLayers());
    assertEquals(spec, JobSpecWire.fromProto(JobSpecWire.toProto(spec)));
    assertEquals(spec, spec.toBuilder().build());
  }

  static final DataSchema SERIES = new DataSchema(List.of("r0", "r1", "r2", "r3", "v0", "v1", "v2", "v3"), List.of(),
      "up", "1");

  static JobSpecBuilder series() {
    return JobSpec.builder().id("market").schema(SERIES);
  }

  @Test
  void recordDpOnTheDl4jEngine_isAcceptedForEveryModel() {
    JobSpec dense = base().privacy(PrivacyMode.RECORD).targetEpsilon(3.0).engine(TrainingEngine.DL4J).build();
    assertEquals(TrainingEngine.DL4J, dense.training().engine());
    JobSpec attention = series().modelType(ModelType.ATTENTION).window(4).dropout(0.2).privacy(PrivacyMode.RECORD)
        .targetEpsilon(3.0).engine(TrainingEngine.DL4J).build();
    assertEquals(TrainingEngine.DL4J, attention.training().engine(), "a job that names dl4j gets it");
    assertEquals(attention, JobSpecWire.fromProto(JobSpecWire.toProto(attention)));
  }

  @ParameterizedTest
  @EnumSource(value = ModelType.class, names = {"LSTM", "SIMPLE_RNN", "ATTENTION"})
  void aReluRecurrentOrAttentionClassifier_defaultsToTheNativeEngine_andMayNameDl4j(ModelType type) {
    JobSpec recurrent = series().modelType(type).window(4).privacy(PrivacyMode.RECORD).targetEpsilon(3.0).build();
    assertEquals(TrainingEngine.NATIVE, recurrent.training().engine());
    JobSpec onDl4j = series().modelType(type).window(4).engine(TrainingEngine.DL4J).build();
    assertEquals(TrainingEngine.DL4J, onDl4j.training().engine());
    assertEquals(onDl4j, JobSpecWire.fromProto(JobSpecWire.toProto(onDl4j)));
  }

  @Test
  void aCnn1dClassifierWithAReluHead_defaultsToTheNativeEngine_andMayStillNameDl4j() {
    JobSpec plain = series().modelType(ModelType.CNN1D).window(4).build();
    assertEquals(TrainingEngine.NATIVE, plain.training().engine());
    JobSpec dp = series().modelType(ModelType.CNN1D).window(4).privacy(PrivacyMode.RECORD).targetEpsilon(3.0).build();
    assertEquals(TrainingEngine.NATIVE, dp.training().engine());
    JobSpec dl4j = series().modelType(ModelType.CNN1D).window(4).engine(TrainingEngine.DL4J).build();
    assertEquals(TrainingEngine.DL4J, dl4j.training().engine());
    assertEquals(dl4j, JobSpecWire.fromProto(JobSpecWire.toProto(dl4j)));

    JobSpec tanh = series().modelType(ModelType.CNN1D).window(4).activation(HiddenActivation.TANH).dropout(0.2)
        .build();
    assertEquals(TrainingEngine.NATIVE, tanh.training().engine(), "the native kernel computes tanh heads and dropout");
  }

  @ParameterizedTest
  @EnumSource(value = ModelType.class, names = {"LSTM", "SIMPLE_RNN", "CNN1D", "ATTENTION"})
  void everySequenceModel_roundTripsThroughTheWireAndTheBuilder(ModelType type) {
    JobSpec spec = series().modelType(type).window(4).units(8).hiddenLayers(List.of(6, 3))
        .activation(HiddenActivation.TANH).dropout(0.2).privacy(PrivacyMode.RECORD).targetEpsilon(2.0).build();
    assertEquals(4, spec.model().sequence().orElseThrow().window());
    assertEquals(spec, JobSpecWire.fromProto(JobSpecWire.toProto(spec)));
    assertEquals(spec, spec.toBuilder().build());
  }

  @Test
  void aDeepSigmoidMlpWithDropout_roundTripsAndDefaultsToTheNativeEngine() {
    JobSpec spec = base().hiddenLayers(List.of(128, 64, 32, 16)).activation(HiddenActivation.SIGMOID).dropout(0.5)
        .l2(1e-4).build();
    assertEquals(TrainingEngine.NATIVE, spec.training().engine());
    assertEquals(spec, JobSpecWire.fromProto(JobSpecWire.toProto(spec)));
  }

  @ParameterizedTest
  @EnumSource(ModelType.class)
  void everyModelTypeWithAnyHead_defaultsToTheNativeEngine_andGetsDl4jOnlyByName(ModelType type) {
    JobSpecBuilder builder = type.isSequence()
        ? series().modelType(type).window(4).heads(type == ModelType.ATTENTION ? 2 : null)
        : base().modelType(type).secureAggregation(type == ModelType.MLP);
    if (type != ModelType.LOGISTIC_REGRESSION) {
      builder.activation(HiddenActivation.TANH).dropout(0.2);
    }
    assertEquals(TrainingEngine.NATIVE, builder.build().training().engine(), type.wireName());
    assertEquals(TrainingEngine.NATIVE, builder.engine(TrainingEngine.NATIVE).build().training().engine());
    assertEquals(TrainingEngine.DL4J, builder.engine(TrainingEngine.DL4J).build().training().engine());
  }

  @Test
  void tanhHeadsAndDropout_onTheNativeEngine_areAccepted() {
    assertEquals(TrainingEngine.NATIVE, base().activation(HiddenActivation.TANH).engine(TrainingEngine.NATIVE).build()
        .training().engine());
    assertEquals(TrainingEngine.NATIVE, series().modelType(ModelType.LSTM).window(4).dropout(0.2)
        .engine(TrainingEngine.NATIVE).build().training().engine());
    assertEquals(TrainingEngine.NATIVE, series().modelType(ModelType.SIMPLE_RNN).window(4).dropout(0.2)
        .engine(TrainingEngine.NATIVE).build().training().engine());
  }

  @Test
  void aWindowThatDoesNotDivideTheColumns_orIsLongerThanThem_isRefusedNamingTheWindow() {
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class,
        () -> series().modelType(ModelType.CNN1D).window(3).build());
    assertEquals("model.window", e.field());
    assertTrue(e.getMessage().contains("8 numeric columns"), e.getMessage());
    e = assertThrows(InvalidJobSpecException.class, () -> series().modelType(ModelType.LSTM).window(16).build());
    assertEquals("model.window", e.field());
  }

  @Test
  void aSequenceModelOnCategoricalColumns_orWithoutAWindow_isRefused() {
    assertEquals("model.type", assertThrows(InvalidJobSpecException.class,
        () -> base().modelType(ModelType.LSTM).window(2).build()).field());
    assertEquals("model.window", assertThrows(InvalidJobSpecException.class,
        () -> series().modelType(ModelType.ATTENTION).build()).field());
  }

  @Test
  void sequenceKeysOnTheWrongModel_areRefusedNamingTheKey() {
    assertEquals("model.window", assertThrows(InvalidJobSpecException.class,
        () -> base().window(4).build()).field());
    assertEquals("model.heads", assertThrows(InvalidJobSpecException.class,
        () -> series().modelType(ModelType.LSTM).window(4).heads(2).build()).field());
    assertEquals("model.kernel_size", assertThrows(InvalidJobSpecException.class,
        () -> series().modelType(ModelType.ATTENTION).window(4).kernelSize(2).build()).field());
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class,
        () -> series().modelType(ModelType.ATTENTION).window(4).units(9).heads(2).build());
    assertTrue(e.getMessage().contains("heads must be positive and divide units (9)"), e.getMessage());
  }

  @Test
  void nonPositiveLearningRate_orDropoutOfOne_isRefusedNamingTheModel() {
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class, () -> base().learningRate(0).build());
    assertTrue(e.getMessage().contains("learningRate must be finite and > 0"), e.getMessage());
    e = assertThrows(InvalidJobSpecException.class, () -> base().dropout(1.0).build());
    assertTrue(e.getMessage().contains("dropout must be in [0, 1)"), e.getMessage());
  }

  @Test
  void aPlanWithAnUnknownActivation_isRefusedNamingTheActivation() {
    JobPlan plan = JobSpecWire.toProto(base().build());
    JobPlan tampered = plan.toBuilder().setModel(plan.getModel().toBuilder().setActivation("swish")).build();
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class, () -> JobSpecWire.fromProto(tampered));
    assertEquals("model.activation", e.field());
    assertTrue(e.getMessage().contains("unknown activation 'swish'"), e.getMessage());
    JobPlan missing = plan.toBuilder().setModel(plan.getModel().toBuilder().clearActivation()).build();
    assertEquals("model.activation", assertThrows(InvalidJobSpecException.class,
        () -> JobSpecWire.fromProto(missing)).field());
  }

  @Test
  void aPlanWithASequenceLayerOnAnMlp_isRefused() {
    JobPlan plan = JobSpecWire.toProto(base().build());
    JobPlan tampered = plan.toBuilder().setModel(plan.getModel().toBuilder().setSequence(
        io.consort.protocol.v1.SequenceLayer.newBuilder().setWindow(2).setUnits(3))).build();
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class, () -> JobSpecWire.fromProto(tampered));
    assertEquals("model", e.field());
    assertTrue(e.getMessage().contains("has no sequence layer"), e.getMessage());
  }

  @Test
  void bankLevelDpWithoutSecureAggregation_isRefused() {
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class,
        () -> base().privacy(PrivacyMode.BANK).targetEpsilon(3.0).secureAggregation(false).build());
    assertEquals("secure_aggregation.enabled", e.field());
  }

  @Test
  void privacyOnWithoutTargetOrMultiplier_isRefusedNamingTheTarget() {
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class,
        () -> base().privacy(PrivacyMode.RECORD).build());
    assertEquals("privacy.target_epsilon", e.field());
  }

  @Test
  void aRecordLevelSettingOnAJobWithoutRecordLevelDp_isRefusedNotIgnored() {
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class,
        () -> base().privacy(PrivacyMode.OFF).recordClipNorm(1.0).build());
    assertEquals("privacy.record_clip_norm", e.field());
    e = assertThrows(InvalidJobSpecException.class,
        () -> base().privacy(PrivacyMode.RECORD).targetEpsilon(1.0).bankNoiseMultiplier(1.0).build());
    assertEquals("privacy.bank_noise_multiplier", e.field());
  }

  @Test
  void thresholdBelowMinBanks_isRefused() {
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class,
        () -> base().minBanks(4).threshold(3).build());
    assertEquals("secure_aggregation.threshold", e.field());
  }

  @Test
  void aNeighbourDegreeTooSmallForTheThreshold_isRefused_beforeEveryBankWouldRefuseTheFirstSum() {
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class,
        () -> base().minBanks(8).neighbourDegree(4).build());
    assertEquals("secure_aggregation.neighbour_degree must be at least 7: every round's threshold (at least 8, from "
        + "min_banks and threshold) must fit in a bank's neighbourhood of degree + 1 banks, or every bank refuses the "
        + "first sum; got 4", e.getMessage());
    assertField("secure_aggregation.neighbour_degree", b -> b.minBanks(2).threshold(6).neighbourDegree(4));
    // the largest threshold a neighbourhood of degree + 1 can meet is accepted
    base().minBanks(5).neighbourDegree(4).build();
    base().minBanks(2).threshold(5).neighbourDegree(4).build();
  }

  @Test
  void invalidValues_nameTheirField() {
    assertField("id", b -> b.id("bad id"));
    assertField("id", b -> b.id("job\nforged log line"));
    assertField("id", b -> b.id("x".repeat(65)));
    assertField("rounds", b -> b.rounds(0));
    assertField("local_epochs", b -> b.localEpochs(0));
    assertField("min_banks", b -> b.minBanks(0));
    assertField("histogram_bins", b -> b.histogramBins(1_001));
    assertField("histogram_bins", b -> b.histogramBins(1));
    assertField("privacy.delta", b -> b.delta(0));
    assertField("privacy.target_epsilon", b -> b.privacy(PrivacyMode.RECORD).targetEpsilon(Double.POSITIVE_INFINITY));
    assertField("privacy.record_clip_norm", b -> b.privacy(PrivacyMode.RECORD).targetEpsilon(1.0).recordClipNorm(-1.0));
    assertField("privacy.record_noise_multiplier",
        b -> b.privacy(PrivacyMode.RECORD).recordNoiseMultiplier(Double.NaN));
    assertField("secure_aggregation.modulus_bits", b -> b.modulusBits(40));
    assertField("secure_aggregation.clip_norm", b -> b.secureAggregationClipNorm(0));
    assertField("secure_aggregation.threshold", b -> b.threshold(1));
    assertField("secure_aggregation.neighbour_degree", b -> b.neighbourDegree(1));
    assertField("model", b -> b.batchSize(0));
    assertField("model", b -> b.learningRate(-0.1));
    assertField("model", b -> b.modelType(ModelType.LOGISTIC_REGRESSION).hiddenLayers(List.of(4)));
    assertField("model.hidden", b -> b.hiddenLayers(List.of(1 << 20)));
    assertField("schema", b -> b.schema(null));
  }

  @Test
  void aCostMatrix_roundTripsThroughTheWireAndGivesTheBayesThreshold() {
    JobSpec spec = base().costMatrix(CostMatrix.GERMAN_CREDIT).build();
    assertEquals(java.util.Optional.of(new CostMatrix(5, 1)), spec.evaluation().costMatrix());
    assertEquals(spec, JobSpecWire.fromProto(JobSpecWire.toProto(spec)));
    assertEquals(spec, spec.toBuilder().build());
    assertEquals(1.0 / 6, CostMatrix.GERMAN_CREDIT.bayesThreshold(), 1e-15);
    org.junit.jupiter.api.Assertions.assertFalse(JobSpecWire.toProto(base().build()).hasCostMatrix());
  }

  /** income, debt and housing's 2 declared levels: 4 encoded features; the 4-8-1 MLP has 4*8+8+8+1 = 49. */
  private static final DataSchema DECLARED = new DataSchema(List.of("income", "debt"),
      List.of(new DataSchema.CategoricalColumn("housing", List.of("own", "rent"))), "default", "yes");

  @Test
  void initialParameters_roundTripThroughTheWire_andAreTheVersion0Model() {
    float[] values = new float[49];
    for (int i = 0; i < values.length; i++) {
      values[i] = 0.01f * i - 0.2f;
    }
    JobSpec spec = base().schema(DECLARED).hiddenLayers(List.of(8)).initialParameters(new InitialParameters(values))
        .build();
    assertEquals(49, JobSpecWire.toProto(spec).getInitialParametersCount());
    assertEquals(spec, JobSpecWire.fromProto(JobSpecWire.toProto(spec)));
    assertEquals(spec, spec.toBuilder().build());
    org.junit.jupiter.api.Assertions.assertArrayEquals(values, spec.initialModel(4));
    IllegalArgumentException wrongWidth = assertThrows(IllegalArgumentException.class, () -> spec.initialModel(5));
    assertTrue(wrongWidth.getMessage().contains("49 initial parameters do not fit the model's 57"),
        wrongWidth.getMessage());
    // without them, the version-0 model is Xavier from the seed, as before
    JobSpec xavier = base().schema(DECLARED).hiddenLayers(List.of(8)).build();
    assertFalse(JobSpecWire.toProto(xavier).getInitialParametersCount() > 0);
    org.junit.jupiter.api.Assertions.assertArrayEquals(
        io.consort.model.train.ModelFactory.initialParameters(xavier.model(), 4), xavier.initialModel(4));
  }

  @Test
  void initialParametersOfAnotherCount_orOnAnOpenSchema_areRefusedNamingBothCounts() {
    InvalidJobSpecException count = assertThrows(InvalidJobSpecException.class, () -> base().schema(DECLARED)
        .hiddenLayers(List.of(8)).initialParameters(new InitialParameters(new float[48])).build());
    assertEquals("model.initial_parameters", count.field());
    assertTrue(count.getMessage().contains("must hold the model's 49 parameters (at 4 encoded features), got 48"),
        count.getMessage());
    // SCHEMA's purpose column is open: its width is known only after the banks' statistics
    InvalidJobSpecException open = assertThrows(InvalidJobSpecException.class, () -> base().hiddenLayers(List.of(8))
        .initialParameters(new InitialParameters(new float[49])).build());
    assertTrue(open.getMessage().contains("(open: [purpose])"), open.getMessage());
    assertField("model.initial_parameters", b -> b.initialParameters(new InitialParameters(new float[] {Float.NaN})));
    JobPlan plan = JobSpecWire.toProto(base().schema(DECLARED).hiddenLayers(List.of(8)).build());
    assertWireField("model.initial_parameters", plan.toBuilder().addInitialParameters(0.5f).build());
  }

  @Test
  void invalidCosts_nameTheirField() {
    assertField("cost_matrix.false_negative", b -> b.costMatrix(new CostMatrix(-1, 1)));
    assertField("cost_matrix.false_positive", b -> b.costMatrix(new CostMatrix(5, Double.NaN)));
    assertField("cost_matrix", b -> b.costMatrix(new CostMatrix(0, 0)));
    JobPlan plan = JobSpecWire.toProto(base().costMatrix(CostMatrix.GERMAN_CREDIT).build());
    assertWireField("cost_matrix.false_negative", plan.toBuilder().setCostMatrix(plan.getCostMatrix().toBuilder()
        .setFalseNegative(Double.POSITIVE_INFINITY)).build());
  }

  @Test
  void aPlanWithoutAnEngine_isRefusedInsteadOfDefaulted() {
    JobPlan plan = JobSpecWire.toProto(base().build());
    JobPlan noEngine = plan.toBuilder().setModel(plan.getModel().toBuilder().clearEngine()).build();
    assertWireField("model.engine", noEngine);
  }

  @Test
  void aPlanMissingValuesOnTheWire_isRefusedNamingTheFirst() {
    JobPlan plan = JobSpecWire.toProto(base().privacy(PrivacyMode.RECORD).targetEpsilon(2.0).build());
    assertWireField("privacy.delta", plan.toBuilder().setPrivacy(plan.getPrivacy().toBuilder().clearDelta()).build());
    assertWireField("privacy.record_clip_norm",
        plan.toBuilder().setPrivacy(plan.getPrivacy().toBuilder().clearRecordClipNorm()).build());
    assertWireField("privacy.target_epsilon",
        plan.toBuilder().setPrivacy(plan.getPrivacy().toBuilder().clearTargetEpsilon()).build());
    assertWireField("rounds", plan.toBuilder().clearRounds().build());
    assertWireField("model", plan.toBuilder().setModel(plan.getModel().toBuilder().clearBatchSize()).build());
    assertWireField("secure_aggregation.modulus_bits",
        plan.toBuilder().setSecureAggregation(plan.getSecureAggregation().toBuilder().clearModulusBits()).build());
    assertWireField("histogram_bins", plan.toBuilder().clearHistogramBins().build());
    assertWireField("privacy.unit", plan.toBuilder().setPrivacy(plan.getPrivacy().toBuilder().clearUnit()).build());
  }

  @Test
  void aPlanCarryingSettingsItsModeDoesNotUse_isRefused() {
    JobPlan plan = JobSpecWire.toProto(base().build());
    assertWireField("privacy.record_clip_norm",
        plan.toBuilder().setPrivacy(plan.getPrivacy().toBuilder().setRecordClipNorm(1.0)).build());
    assertWireField("privacy.bank_noise_multiplier",
        plan.toBuilder().setPrivacy(plan.getPrivacy().toBuilder().setBankNoiseMultiplier(0.0)).build());
    assertWireField("secure_aggregation",
        plan.toBuilder().setSecureAggregation(plan.getSecureAggregation().toBuilder().setPerBankSigma(3)).build());
    assertWireField("model.input_features",
        plan.toBuilder().setModel(plan.getModel().toBuilder().setInputFeatures(23)).build());
  }

  @Test
  void aPlanWithFieldsThisVersionDoesNotKnow_isRefused_evenTheRetiredSplitSettings() {
    JobPlan plan = JobSpecWire.toProto(base().build());
    // field 7 was test_fraction: a coordinator must not be able to choose the banks' held-out rows
    JobPlan retired = plan.toBuilder().setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder()
        .addField(7, com.google.protobuf.UnknownFieldSet.Field.newBuilder().addFixed64(
            Double.doubleToLongBits(0.25)).build()).build()).build();
    assertWireField("plan", retired);
    JobPlan nested = plan.toBuilder().setPrivacy(plan.getPrivacy().toBuilder().setUnknownFields(
        com.google.protobuf.UnknownFieldSet.newBuilder().addField(99, com.google.protobuf.UnknownFieldSet.Field
            .newBuilder().addVarint(1).build()).build())).build();
    assertWireField("plan.privacy", nested);
  }

  /**
   * How an older bank meets a newer secure-aggregation field (docs/SECURE_AGGREGATION.md, limit (2)): a version-6 bank
   * sees a version-7 plan's {@code self_mask} (field 12) as a field it does not know, and a version-4 bank sees
   * {@code unmasking_with_input} so; it refuses the plan naming the field's number, never runs it in another mode.
   * Played here with a field number this version does not know either.
   */
  @Test
  void aPlanWhoseSecureAggregationCarriesAFieldThisVersionDoesNotKnow_isRefusedNamingIt() {
    JobPlan plan = JobSpecWire.toProto(base().unmaskingWithInput(true).build());
    JobPlan newer = plan.toBuilder().setSecureAggregation(plan.getSecureAggregation().toBuilder().setUnknownFields(
        com.google.protobuf.UnknownFieldSet.newBuilder().addField(40, com.google.protobuf.UnknownFieldSet.Field
            .newBuilder().addVarint(0).build()).build())).build();

    InvalidJobSpecException refused = assertThrows(InvalidJobSpecException.class, () -> JobSpecWire.fromProto(newer));

    assertEquals("plan.secure_aggregation", refused.field(), refused.getMessage());
    assertTrue(refused.getMessage().contains("does not know (numbers [40])"), refused.getMessage());
  }

  @Test
  void unsignedWireValuesAboveIntRange_areRefusedNotWrapped() {
    JobPlan plan = JobSpecWire.toProto(base().build());
    assertWireField("rounds", plan.toBuilder().setRounds(-1).build());
    assertWireField("secure_aggregation.threshold",
        plan.toBuilder().setSecureAggregation(plan.getSecureAggregation().toBuilder().setThreshold(-5)).build());
  }

  static final DataSchema PREPROCESSED = SCHEMA.withPreprocessing(new Preprocessing(
      java.util.Map.of("income", new NumericRules(Imputation.MEDIAN, OptionalDouble.empty(), true, List.of(99999999.0),
          List.of("NA"), Optional.of(new QuantileClip(0.01, 0.99))),
          "debt", new NumericRules(Imputation.CONSTANT, OptionalDouble.of(0), false, List.of(-1.0), List.of(),
              Optional.empty())),
      java.util.Map.of("purpose", new CategoricalRules(Imputation.MOST_FREQUENT, Optional.empty(), true,
          List.of("unknown"), true),
          "housing", new CategoricalRules(Imputation.CONSTANT, Optional.of("rent"), false, List.of(), true))));

  @Test
  void preprocessingRules_roundTripThroughTheWireUnchanged() {
    JobSpec spec = base().schema(PREPROCESSED).build();
    JobPlan plan = JobSpecWire.toProto(spec);
    assertEquals(4, plan.getSchema().getPreprocessingCount());
    assertEquals(spec, JobSpecWire.fromProto(plan));
    assertEquals(0, JobSpecWire.toProto(base().build()).getSchema().getPreprocessingCount(),
        "a schema without rules has no entries");
  }

  @Test
  void aPlanWhosePreprocessingIsNotExactlyValid_isRefusedNamingTheColumnAndField() {
    JobPlan plan = JobSpecWire.toProto(base().schema(PREPROCESSED).build());
    io.consort.protocol.v1.DataSchema schema = plan.getSchema();
    assertWireMessage("schema.preprocessing is invalid: preprocessing of column 'income' is given twice",
        withSchema(plan, schema.toBuilder().addPreprocessing(schema.getPreprocessing(0))));
    assertWireMessage("schema.preprocessing is invalid: preprocessing of column 'salary': no feature column of the "
        + "schema has that name", withSchema(plan, schema.toBuilder().addPreprocessing(schema.getPreprocessing(0)
        .toBuilder().setColumn("salary"))));
    assertWireMessage("schema.preprocessing is invalid: preprocessing of column 'income' sets fill_category, which "
        + "that column's type does not use", withSchema(plan, schema.toBuilder().setPreprocessing(0,
        schema.getPreprocessing(0).toBuilder().setFillCategory("x"))));
    assertWireMessage("schema.preprocessing is invalid: preprocessing of column 'income' needs a missing policy "
        + "(refuse, mean, median, most_frequent or constant), got MISSING_POLICY_UNSPECIFIED", withSchema(plan,
        schema.toBuilder().setPreprocessing(0, schema.getPreprocessing(0).toBuilder().clearMissing())));
    assertWireMessage("schema.preprocessing is invalid: preprocessing of column 'income' sets one clip quantile; a "
        + "clip needs both", withSchema(plan, schema.toBuilder().setPreprocessing(0,
        schema.getPreprocessing(0).toBuilder().clearClipUpperQuantile())));
    assertWireMessage("schema.preprocessing is invalid: preprocessing of column 'income': clip quantiles must be a "
        + "lower one in [0, 0.5) and an upper one in (0.5, 1], got [0.6, 0.99]", withSchema(plan, schema.toBuilder()
        .setPreprocessing(0, schema.getPreprocessing(0).toBuilder().setClipLowerQuantile(0.6))));
    assertWireMessage("schema.preprocessing is invalid: preprocessing of column 'purpose': missing policy median "
        + "applies to numeric columns only; a categorical column takes refuse, most_frequent or constant",
        withSchema(plan, schema.toBuilder().setPreprocessing(2, schema.getPreprocessing(2).toBuilder()
            .setMissing(io.consort.protocol.v1.MissingPolicy.MISSING_MEDIAN))));
    assertWireMessage("schema.preprocessing is invalid: preprocessing of column 'debt' changes nothing (leave it "
        + "out)", withSchema(plan, schema.toBuilder().setPreprocessing(1, io.consort.protocol.v1.ColumnPreprocessing
        .newBuilder().setColumn("debt").setMissing(io.consort.protocol.v1.MissingPolicy.MISSING_REFUSE))));
    assertWireMessage("schema.preprocessing is invalid: preprocessing of column 'housing': the fill category "
        + "'boat' is not one of its declared categories [own, rent]", withSchema(plan, schema.toBuilder()
        .setPreprocessing(3, schema.getPreprocessing(3).toBuilder().setFillCategory("boat"))));
  }

  @Test
  void aPlanAskingForTooManyQuantileHistograms_isRefused() {
    List<String> columns = new java.util.ArrayList<>();
    java.util.Map<String, NumericRules> rules = new java.util.HashMap<>();
    for (int i = 0; i <= JobSpec.MAX_QUANTILE_COLUMNS; i++) {
      columns.add("x" + i);
      rules.put("x" + i, new NumericRules(Imputation.MEDIAN, OptionalDouble.empty(), false, List.of(), List.of(),
          Optional.empty()));
    }
    DataSchema wide = new DataSchema(columns, List.of(), "default", "yes", new Preprocessing(rules,
        java.util.Map.of()));
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class, () -> base().schema(wide).build());
    assertEquals("schema.preprocessing may ask for the median or clipping of at most 64 columns (each adds a "
        + "quantile histogram to the secure sum), got 65", e.getMessage());
  }

  private static JobPlan withSchema(JobPlan plan, io.consort.protocol.v1.DataSchema.Builder schema) {
    return plan.toBuilder().setSchema(schema).build();
  }

  private static void assertWireMessage(String message, JobPlan plan) {
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class, () -> JobSpecWire.fromProto(plan));
    assertEquals(message, e.getMessage());
  }

  @Test
  void distributedRecordNoise_andFedProx_roundTripThroughTheWire_andAbsentMeansLocal() {
    JobSpec spec = base().privacy(PrivacyMode.RECORD).targetEpsilon(3.0).distributedRecordNoise(true)
        .colludingBanks(2).recordSamplingRate(0.1).minBanks(4).proximalMu(0.01).build();
    assertEquals(new PrivacySpec.DistributedNoise(2, 0.1), spec.privacy().distributedRecordNoise().orElseThrow());
    assertEquals(spec, JobSpecWire.fromProto(JobSpecWire.toProto(spec)));
    assertEquals(spec, spec.toBuilder().build());
    JobSpec local = base().privacy(PrivacyMode.RECORD).targetEpsilon(3.0).build();
    assertFalse(JobSpecWire.toProto(local).getPrivacy().hasDistributedRecordNoise());
    assertTrue(JobSpecWire.fromProto(JobSpecWire.toProto(local)).privacy().distributedRecordNoise().isEmpty());
  }

  @Test
  void distributedRecordNoise_isRefused_whereItsGuaranteeCannotHold() {
    UnaryOperator<JobSpecBuilder> distributed = b -> b.privacy(PrivacyMode.RECORD).targetEpsilon(3.0)
        .distributedRecordNoise(true);
    assertField("secure_aggregation.enabled", b -> distributed.apply(b).secureAggregation(false));
    assertField("local_epochs", b -> distributed.apply(b).localEpochs(2));
    assertField("privacy.colluding_banks", b -> distributed.apply(b).colludingBanks(0));
    // min_banks 2: a round may have threshold 2, so two colluders could hold every counted share
    assertField("privacy.colluding_banks", b -> distributed.apply(b).colludingBanks(2));
    assertField("privacy.record_sampling_rate", b -> distributed.apply(b).recordSamplingRate(1.5));
    assertField("privacy.record_sampling_rate", b -> b.privacy(PrivacyMode.RECORD).targetEpsilon(3.0)
        .recordSamplingRate(0.1));
    assertField("privacy.record_noise", b -> b.privacy(PrivacyMode.BOTH).targetEpsilon(3.0)
        .distributedRecordNoise(true));
    assertField("strategy.proximal_mu", b -> b.proximalMu(-1));
    assertField("strategy.proximal_mu", b -> b.proximalMu(0.1).engine(io.consort.model.train.TrainingEngine.DL4J));
  }

  private static void assertField(String field, UnaryOperator<JobSpecBuilder> change) {
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class, () -> change.apply(base()).build());
    assertEquals(field, e.field(), e.getMessage());
    assertTrue(e.getMessage().startsWith(field + " "), e.getMessage());
  }

  private static void assertWireField(String field, JobPlan plan) {
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class, () -> JobSpecWire.fromProto(plan));
    assertEquals(field, e.field(), e.getMessage());
  }
}
