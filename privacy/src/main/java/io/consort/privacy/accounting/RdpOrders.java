package io.consort.privacy.accounting;

import io.consort.privacy.DpPreconditions;
import java.util.Arrays;

/** An immutable list of Rényi orders over which the (epsilon, delta) conversion is minimised. */
public final class RdpOrders {

  private static final RdpOrders DEFAULT = new RdpOrders(defaultOrders());
  private static final RdpOrders INTEGER = new RdpOrders(
      Arrays.stream(defaultOrders()).filter(SampledGaussianRdp::isInteger).toArray());

  private final double[] orders;

  private RdpOrders(double[] orders) {
    if (orders.length == 0) {
      throw new IllegalArgumentException("RDP orders must not be empty, got []");
    }
    for (double order : orders) {
      DpPreconditions.checkOrder(order);
    }
    this.orders = orders.clone();
  }

  /** Any custom list of orders, each finite and > 1. */
  public static RdpOrders of(double... orders) {
    return new RdpOrders(orders);
  }

  /**
   * 1.1, 1.2, ..., 10.9, 11, 12, ..., 63, 128, 256, 512, 1024: the usual list (TensorFlow Privacy's
   * default plus the large orders that matter for tiny epsilons).
   */
  public static RdpOrders defaults() {
    return DEFAULT;
  }

  /** The integer members of {@link #defaults()}: 2..63, 128, 256, 512, 1024. */
  public static RdpOrders integersOnly() {
    return INTEGER;
  }

  public int size() {
    return orders.length;
  }

  public double get(int index) {
    return orders[index];
  }

  public double[] toArray() {
    return orders.clone();
  }

  private static double[] defaultOrders() {
    double[] result = new double[99 + 53 + 4];
    int n = 0;
    for (int tenths = 11; tenths <= 109; tenths++) {
      result[n++] = tenths / 10.0; // 1.1 .. 10.9 exactly as the nearest doubles to those decimals
    }
    for (int order = 11; order <= 63; order++) {
      result[n++] = order;
    }
    for (double order : new double[] {128, 256, 512, 1024}) {
      result[n++] = order;
    }
    return result;
  }

  @Override
  public String toString() {
    return "RdpOrders" + Arrays.toString(orders);
  }
}
