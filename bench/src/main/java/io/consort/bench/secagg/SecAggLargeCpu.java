package io.consort.bench.secagg;

import io.consort.model.random.BulkSecureRandom;
import io.consort.secagg.sim.BankStageCpu;

/**
 * Secure aggregation's CPU in a round of a 10^6-parameter model, per part, bank and coordinator
 * ({@link BankStageCpu}), with the quantiser rounding on the daemon's {@link BulkSecureRandom}.
 *
 * <pre>java -cp bench/target/consort-bench.jar io.consort.bench.secagg.SecAggLargeCpu [banks] [dimension] [rounds] [warm-up rounds]</pre>
 */
public final class SecAggLargeCpu {
  private SecAggLargeCpu() {
  }

  public static void main(String[] args) throws Exception {
    int banks = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int dimension = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 12;
    int warmUp = args.length > 3 ? Integer.parseInt(args[3]) : 8;
    BankStageCpu.run(banks, dimension, rounds, warmUp, BulkSecureRandom.create());
  }
}
