package io.consort.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.consort.model.dl4j.Dl4jNetworks;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

/**
 * The native SimpleRnn against DL4J's {@code SimpleRnn} (the checks of
 * {@link RecurrentNetworkChecks}), and that the layout it reads is DL4J's parameter table.
 */
class SimpleRnnNetworkTest extends RecurrentNetworkChecks {

  @Override
  ModelType type() {
    return ModelType.SIMPLE_RNN;
  }

  @Override
  RecurrentNetwork network(SequenceSpec sequence, int inputs, List<Integer> head,
      DenseKernel kernel) {
    return new SimpleRnnNetwork(sequence, inputs, head, kernel);
  }

  @Override
  RecurrentNetwork network(ModelSpec spec, int inputs, DenseKernel kernel) {
    return new SimpleRnnNetwork(spec, inputs, kernel);
  }

  @Test
  void dl4jsSimpleRnnHasNoLayerNormGains_andItsBlocksAreTheLayoutsInputRecurrentAndBias() {
    ModelSpec spec = learnableSpec();
    MultiLayerNetwork net = Dl4jNetworks.network(spec, 16,
        ModelFactory.initialParameters(spec, 16));
    var table = net.getLayer(0).paramTable();
    assertEquals(List.of("W", "RW", "b"), List.copyOf(table.keySet()));
    assertEquals(2 * 6, table.get("W").length());
    assertEquals(6 * 6, table.get("RW").length());
    assertEquals(6, table.get("b").length());
  }
}
