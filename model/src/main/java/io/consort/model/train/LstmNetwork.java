package io.consort.model.train;

import java.util.Arrays;
import java.util.List;

/**
 * DL4J's {@code LSTM} read at its last time step, with its dense head and one output
 * ({@link RecurrentNetwork}: layout, batching per time step, backpropagation through time and exact
 * per-example norms). Its pre-activations are four blocks of {@code n} ({@code G = 4n}).
 *
 * <p>DL4J's math ({@code LSTMHelpers}, no peepholes): with {@code z = x_t W + h_{t-1} RW + b} split
 * into four blocks of {@code n} in DL4J's order, block input {@code a = tanh(z_0)}, forget gate
 * {@code f = sigmoid(z_1)}, output gate {@code o = sigmoid(z_2)}, input gate
 * {@code i = sigmoid(z_3)}; {@code c_t = f c_{t-1} + i a}, {@code h_t = o tanh(c_t)}, from
 * {@code h_0 = c_0 = 0}.
 */
final class LstmNetwork extends RecurrentNetwork {
  /** Per time step, {@code tanh(c_t)} and {@code c_t}: {@code window x rows x units} each. */
  private float[] cellTanh = new float[0];
  private float[] cells = new float[0];
  /** The error at one step's {@code c_t} through {@code c_{t+1}}: {@code rows x units}. */
  private float[] cellError = new float[0];

  LstmNetwork(SequenceSpec sequence, int features, List<Integer> headLayers, DenseKernel kernel) {
    super(sequence, features, headLayers, kernel, 4);
  }

  /** The network of {@code spec} (its head's activation, objective and dropout) on rows of {@code features}. */
  LstmNetwork(ModelSpec spec, int features, DenseKernel kernel) {
    super(spec.sequence().orElseThrow(), features, spec.hiddenLayers(), DenseNetwork.Head.of(spec),
        kernel, 4);
  }

  @Override
  String layerName() {
    return "LSTM";
  }

  @Override
  void allocateCellBuffers(int rows) {
    cellTanh = new float[window * rows * units];
    cells = new float[window * rows * units];
    cellError = new float[rows * units];
  }

  @Override
  void cellForward(int t, int rows) {
    for (int r = 0; r < rows; r++) {
      kernel.tanh(stepOut, r * gates, units);
      kernel.sigmoid(stepOut, r * gates + units, 3 * units);
    }
    int cellBase = t * rows * units;
    for (int r = 0; r < rows; r++) {
      int g = r * gates;
      int cell = cellBase + r * units;
      int previous = cell - rows * units;
      for (int j = 0; j < units; j++) {
        float a = stepOut[g + j];
        float f = stepOut[g + units + j];
        float i = stepOut[g + 3 * units + j];
        cells[cell + j] = i * a + (t == 0 ? 0f : f * cells[previous + j]);
      }
    }
    System.arraycopy(cells, cellBase, cellTanh, cellBase, rows * units);
    kernel.tanh(cellTanh, cellBase, rows * units);
    for (int r = 0; r < rows; r++) {
      int o = r * gates + 2 * units;
      int cell = cellBase + r * units;
      for (int j = 0; j < units; j++) {
        hidden[r * units + j] = stepOut[o + j] * cellTanh[cell + j];
      }
    }
  }

  @Override
  void cellBackward(int t, int rows) {
    if (t == window - 1) {
      Arrays.fill(cellError, 0, rows * units, 0f);
    }
    for (int r = 0; r < rows; r++) {
      int g = (t * rows + r) * gates;
      int cell = (t * rows + r) * units;
      int previous = cell - rows * units;
      int e = r * gates;
      for (int j = 0; j < units; j++) {
        float a = gateValues[g + j];
        float f = gateValues[g + units + j];
        float o = gateValues[g + 2 * units + j];
        float i = gateValues[g + 3 * units + j];
        float tc = cellTanh[cell + j];
        float dh = hiddenError[r * units + j];
        float dc = cellError[r * units + j] + dh * o * (1 - tc * tc);
        float cPrevious = t == 0 ? 0f : cells[previous + j];
        stepOut[e + j] = dc * i * (1 - a * a);
        stepOut[e + units + j] = dc * cPrevious * f * (1 - f);
        stepOut[e + 2 * units + j] = dh * tc * o * (1 - o);
        stepOut[e + 3 * units + j] = dc * a * i * (1 - i);
        cellError[r * units + j] = dc * f;
      }
    }
  }
}
