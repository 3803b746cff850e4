package io.consort.model.features;

import java.util.List;

/**
 * Encoded rows ready for training or scoring: dense row-major features ({@code rows x features})
 * and labels 1 (positive class) or 0. Arrays are shared, not copied: treat them as read-only.
 */
public record EncodedData(int rows, int features, float[] x, float[] y) {
  public EncodedData {
    if (rows < 0 || features <= 0) {
      throw new IllegalArgumentException("rows=" + rows + ", features=" + features);
    }
    if (x.length != (long) rows * features || y.length != rows) {
      throw new IllegalArgumentException("x has " + x.length + " values and y " + y.length
          + " for " + rows + " rows of " + features + " features");
    }
  }

  public int positives() {
    int count = 0;
    for (float label : y) {
      if (label > 0.5f) {
        count++;
      }
    }
    return count;
  }

  /** The rows of several data sets one after another (e.g. pooling banks for a baseline). */
  public static EncodedData concat(List<EncodedData> parts) {
    if (parts.isEmpty()) {
      throw new IllegalArgumentException("nothing to concatenate");
    }
    int features = parts.get(0).features;
    int rows = 0;
    for (EncodedData part : parts) {
      if (part.features != features) {
        throw new IllegalArgumentException(
            "feature counts differ: " + part.features + " vs " + features);
      }
      rows = Math.addExact(rows, part.rows);
    }
    float[] x = new float[Math.multiplyExact(rows, features)];
    float[] y = new float[rows];
    int at = 0;
    for (EncodedData part : parts) {
      System.arraycopy(part.x, 0, x, at * features, part.x.length);
      System.arraycopy(part.y, 0, y, at, part.rows);
      at += part.rows;
    }
    return new EncodedData(rows, features, x, y);
  }
}
