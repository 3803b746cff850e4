package io.consort.model.dl4j;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DL4J's plain ReLU (no threshold, cap or slope) with its gradient as two of ND4J's vectorised
 * element-wise ops, in place: {@code dL/dz = step(z) * epsilon}, step 1 where {@code z > 0} and 0
 * elsewhere (NaN included), the same values as ND4J's {@code relu_bp}. ND4J 1.0.0-M2.1's
 * {@code relu_bp} calls a {@code std::function} per element: about 9% of the training thread's
 * time in a DL4J MLP step at batch 512 (docs/BENCHMARKS.md, "Where a DL4J step's native time
 * goes"). The forward pass is {@link ActivationReLU}'s.
 */
public final class StepReluActivation extends ActivationReLU {
  @Override
  public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
    assertShape(in, epsilon);
    // In place, as DL4J's own tanh and sigmoid gradients: a dense layer's backprop recomputes z for
    // this call and reads only the returned gradient afterwards.
    Nd4j.getExecutioner().exec(new Step(in, in, 0.0));
    return new Pair<>(in.muli(epsilon), null);
  }

  @Override
  public String toString() {
    return "relu";
  }
}
