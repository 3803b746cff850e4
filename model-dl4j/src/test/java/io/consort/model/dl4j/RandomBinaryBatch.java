package io.consort.model.dl4j;

import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** A seeded test batch: features uniform in [-2, 2) and 0/1 labels, as ND4J arrays. */
record RandomBinaryBatch(INDArray features, INDArray labels) {
  static RandomBinaryBatch next(SplittableRandom random, int rows, int inputs, DataType dataType) {
    float[] x = new float[rows * inputs];
    float[] y = new float[rows];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextDouble() * 4 - 2);
    }
    for (int i = 0; i < y.length; i++) {
      y[i] = random.nextBoolean() ? 1f : 0f;
    }
    return new RandomBinaryBatch(Nd4j.createFromArray(x).reshape(rows, inputs).castTo(dataType),
        Nd4j.createFromArray(y).reshape(rows, 1).castTo(dataType));
  }
}
