package io.consort.secagg;

import java.util.List;

/**
 * The unmasked sum of the included banks' inputs, in Z_{2^k} (values in [0, 2^k), for k = 32 read as
 * unsigned). Decode with {@link Quantizer#decodeSum(int[])}.
 *
 * @param sum the aggregate vector; owned by the caller
 * @param ringBits k
 * @param includedBanks banks whose masked input is in the sum (U3 of Bonawitz et al. 2017)
 * @param excludedBanks roster banks whose input is not in the sum
 */
public record AggregationResult(int[] sum, int ringBits, List<String> includedBanks, List<String> excludedBanks) {
  public AggregationResult {
    includedBanks = List.copyOf(includedBanks);
    excludedBanks = List.copyOf(excludedBanks);
  }

  @Override
  public String toString() {
    return "AggregationResult[length=" + sum.length + ", k=" + ringBits + ", included=" + includedBanks
        + ", excluded=" + excludedBanks + "]";
  }
}
