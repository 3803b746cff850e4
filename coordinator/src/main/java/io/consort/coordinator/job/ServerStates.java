package io.consort.coordinator.job;

import io.consort.protocol.v1.ServerOptimizerState;
import java.util.List;

/** Checks shared by the server rules when they restore a stored state. */
final class ServerStates {
  private ServerStates() {}

  static void requireStrategy(ServerOptimizerState state, String expected) {
    if (!state.getStrategy().equals(expected)) {
      throw new IllegalArgumentException("the stored server state is for strategy '" + state.getStrategy()
          + "', but the job runs " + expected);
    }
  }

  static void requireLength(double[] stateVector, int modelLength) {
    if (stateVector.length != modelLength) {
      throw new IllegalArgumentException("the server state has " + stateVector.length + " values but the model has "
          + modelLength);
    }
  }

  static double[] finite(List<Double> values, String what) {
    double[] out = new double[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
      if (!Double.isFinite(out[i])) {
        throw new IllegalArgumentException("the stored " + what + " has a non-finite value at " + i);
      }
    }
    return out;
  }
}
