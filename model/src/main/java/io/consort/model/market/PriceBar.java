package io.consort.model.market;

/**
 * One interval of a price series.
 *
 * @param endEpochSecond when the interval ends (UTC seconds)
 * @param close the last price of the interval, > 0
 * @param volume what was traded in the interval, >= 0
 */
public record PriceBar(long endEpochSecond, double close, double volume) {
  public PriceBar {
    if (!(close > 0) || !Double.isFinite(close)) {
      throw new IllegalArgumentException("close must be finite and > 0, got " + close);
    }
    if (!(volume >= 0) || !Double.isFinite(volume)) {
      throw new IllegalArgumentException("volume must be finite and >= 0, got " + volume);
    }
  }
}
