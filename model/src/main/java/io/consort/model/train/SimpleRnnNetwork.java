package io.consort.model.train;

import java.util.List;

/**
 * DL4J's {@code SimpleRnn} (Elman) read at its last time step, with its dense head and one
 * output ({@link RecurrentNetwork}: layout, batching per time step, backpropagation through
 * time and exact per-example norms): {@code h_t = tanh(x_t W + h_{t-1} RW + b)} from
 * {@code h_0 = 0}, its pre-activation width {@code G = n}.
 *
 * <p>The recurrence is tanh whatever the spec's {@code activation} (which is the dense head's):
 * consort-model-dl4j builds the layer with {@code Activation.TANH}, as Keras's and PyTorch's
 * default {@code SimpleRNN}/{@code nn.RNN}. DL4J's layer normalisation of SimpleRnn is off there
 * (its default), so the layout has no gain parameters: {@code W [c, n]}, {@code RW [n, n]},
 * {@code b [n]} ({@code SimpleRnnParamInitializer}'s order).
 */
final class SimpleRnnNetwork extends RecurrentNetwork {

  SimpleRnnNetwork(SequenceSpec sequence, int features, List<Integer> headLayers,
      DenseKernel kernel) {
    super(sequence, features, headLayers, kernel, 1);
  }

  /** The network of {@code spec} (its head's activation, objective and dropout) on rows of {@code features}. */
  SimpleRnnNetwork(ModelSpec spec, int features, DenseKernel kernel) {
    super(spec.sequence().orElseThrow(), features, spec.hiddenLayers(), DenseNetwork.Head.of(spec),
        kernel, 1);
  }

  @Override
  String layerName() {
    return "SimpleRnn";
  }

  @Override
  void allocateCellBuffers(int rows) {
    // h_t is the whole state, kept as the step's gate values
  }

  @Override
  void cellForward(int t, int rows) {
    kernel.tanh(stepOut, 0, rows * units);
    System.arraycopy(stepOut, 0, hidden, 0, rows * units);
  }

  @Override
  void cellBackward(int t, int rows) {
    int h = t * rows * units;
    for (int k = 0; k < rows * units; k++) {
      float value = gateValues[h + k];
      stepOut[k] = hiddenError[k] * (1 - value * value);
    }
  }
}
