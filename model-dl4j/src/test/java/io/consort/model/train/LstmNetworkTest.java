package io.consort.model.train;

import java.util.List;

/** The native LSTM against DL4J's {@code LSTM} (the checks of {@link RecurrentNetworkChecks}). */
class LstmNetworkTest extends RecurrentNetworkChecks {

  @Override
  ModelType type() {
    return ModelType.LSTM;
  }

  @Override
  RecurrentNetwork network(SequenceSpec sequence, int inputs, List<Integer> head,
      DenseKernel kernel) {
    return new LstmNetwork(sequence, inputs, head, kernel);
  }

  @Override
  RecurrentNetwork network(ModelSpec spec, int inputs, DenseKernel kernel) {
    return new LstmNetwork(spec, inputs, kernel);
  }
}
