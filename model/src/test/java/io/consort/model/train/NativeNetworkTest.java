package io.consort.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which network the native engine builds for a model: every model type, with any head. (The networks' math is checked against DL4J in consort-model-dl4j's
 * DenseNetworkTest, Conv1dNetworkTest, LstmNetworkTest, SimpleRnnNetworkTest and AttentionNetworkTest.)
 */
class NativeNetworkTest {
  private static final SequenceSpec CONV = new SequenceSpec(6, 4, 3, 0);

  @Test
  void denseModelsGetADenseNetwork_andACnn1dAConv1dNetwork_withTheLayoutsParameterCount() {
    ModelSpec mlp = ModelSpec.defaultMlp(1);
    ModelSpec cnn = ModelSpec.sequence(ModelType.CNN1D, CONV, List.of(5), Objective.BINARY, 1);
    assertInstanceOf(DenseNetwork.class, NativeNetwork.of(mlp, 23));
    assertInstanceOf(DenseNetwork.class, NativeNetwork.of(ModelSpec.logisticRegression(1), 23));
    NativeNetwork conv = NativeNetwork.of(cnn, 12);
    assertInstanceOf(Conv1dNetwork.class, conv);
    assertEquals(ParameterLayout.of(cnn, 12).parameterCount(), conv.parameterCount());
    assertTrue(cnn.nativeKernel());
  }

  @Test
  void aReluLstmClassifier_getsAnLstmNetwork_withTheLayoutsParameterCount() {
    ModelSpec lstm = ModelSpec.sequence(ModelType.LSTM, new SequenceSpec(6, 4, 0, 0), List.of(5), Objective.BINARY, 1);
    NativeNetwork network = NativeNetwork.of(lstm, 12);
    assertInstanceOf(LstmNetwork.class, network);
    assertEquals(ParameterLayout.of(lstm, 12).parameterCount(), network.parameterCount());
    assertTrue(lstm.nativeKernel());
  }

  @Test
  void aReluSimpleRnnClassifier_getsASimpleRnnNetwork_withTheLayoutsParameterCount() {
    ModelSpec rnn = ModelSpec.sequence(ModelType.SIMPLE_RNN, new SequenceSpec(6, 4, 0, 0), List.of(5),
        Objective.BINARY, 1);
    NativeNetwork network = NativeNetwork.of(rnn, 12);
    assertInstanceOf(SimpleRnnNetwork.class, network);
    assertEquals(ParameterLayout.of(rnn, 12).parameterCount(), network.parameterCount());
    assertTrue(rnn.nativeKernel());
  }

  @Test
  void aReluAttentionClassifier_getsAnAttentionNetwork_withTheLayoutsParameterCount() {
    ModelSpec attention = ModelSpec.sequence(ModelType.ATTENTION, new SequenceSpec(6, 4, 0, 2), List.of(5),
        Objective.BINARY, 1);
    NativeNetwork network = NativeNetwork.of(attention, 12);
    assertInstanceOf(AttentionNetwork.class, network);
    assertEquals(ParameterLayout.of(attention, 12).parameterCount(), network.parameterCount());
    assertTrue(attention.nativeKernel());
  }

  @Test
  void everyActivationObjectiveAndDropout_ofEveryModelType_isNative() {
    List<ModelSpec> computed = List.of(
        ModelSpec.sequence(ModelType.ATTENTION, new SequenceSpec(6, 4, 0, 2), List.of(5), Objective.BINARY, 1)
            .withActivation(HiddenActivation.RELU, 0.2),
        ModelSpec.sequence(ModelType.ATTENTION, new SequenceSpec(6, 4, 0, 2), List.of(5), Objective.REGRESSION, 1)
            .withActivation(HiddenActivation.TANH, 0),
        ModelSpec.sequence(ModelType.SIMPLE_RNN, new SequenceSpec(6, 4, 0, 0), List.of(5), Objective.BINARY, 1)
            .withActivation(HiddenActivation.RELU, 0.2),
        ModelSpec.sequence(ModelType.LSTM, new SequenceSpec(6, 4, 0, 0), List.of(5), Objective.REGRESSION, 1),
        ModelSpec.sequence(ModelType.CNN1D, CONV, List.of(5), Objective.REGRESSION, 1),
        ModelSpec.sequence(ModelType.CNN1D, CONV, List.of(5), Objective.BINARY, 1)
            .withActivation(HiddenActivation.TANH, 0),
        ModelSpec.sequence(ModelType.CNN1D, CONV, List.of(5), Objective.BINARY, 1)
            .withActivation(HiddenActivation.SIGMOID, 0.2),
        ModelSpec.defaultMlp(1).withActivation(HiddenActivation.TANH, 0.5).withObjective(Objective.REGRESSION),
        ModelSpec.logisticRegression(1).withObjective(Objective.REGRESSION));
    for (ModelSpec spec : computed) {
      assertTrue(spec.nativeKernel(), spec.toString());
      assertEquals(ParameterLayout.of(spec, 12).parameterCount(), NativeNetwork.of(spec, 12).parameterCount(),
          spec.toString());
    }
  }

  @Test
  void everyModelType_isComputedNatively() {
    for (ModelType type : ModelType.values()) {
      ModelSpec spec = switch (type) {
        case MLP -> ModelSpec.defaultMlp(1);
        case LOGISTIC_REGRESSION -> ModelSpec.logisticRegression(1);
        case CNN1D -> ModelSpec.sequence(type, CONV, List.of(5), Objective.BINARY, 1);
        case ATTENTION -> ModelSpec.sequence(type, new SequenceSpec(6, 4, 0, 2), List.of(5), Objective.BINARY, 1);
        default -> ModelSpec.sequence(type, new SequenceSpec(6, 4, 0, 0), List.of(5), Objective.BINARY, 1);
      };
      assertTrue(spec.nativeKernel(), type.wireName());
      assertEquals(ParameterLayout.of(spec, 12).parameterCount(), NativeNetwork.of(spec, 12).parameterCount(),
          type.wireName());
    }
  }
}
